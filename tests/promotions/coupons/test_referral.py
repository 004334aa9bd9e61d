"""Referral-reward coupons: when siyu.referrals grants a referral reward (after the referred
friend's first order is past its refund window), the shop's running referral coupons for that side
are given, once per reward, through the `referral.rewarded` event."""

from datetime import timedelta

from django.utils import timezone

from siyu.core.models import OutboxEvent
from siyu.promotions.coupons.models import CouponGrant, GrantSource
from siyu.referrals.models import ReferralReward
from siyu.referrals.services import referral_bind, referral_rewards_grant_due

from ...customers.member_steps import deliver_events
from ...factories import make_product, make_shopper
from ...referrals.steps import completed, shopper_with_address
from .steps import make_coupon


def test_granted_referral_rewards_give_each_side_its_coupon_once(shop, owner):
    alice = make_shopper("13700000001")
    bob, address = shopper_with_address(shop, "13700000002")
    referral_bind(shop=shop, referee=bob, code=alice.share_code)
    for_referrer = make_coupon(shop, owner, name="邀请有礼", kind="no_threshold", amount_off=1000, rule="referrer")
    for_referee = make_coupon(shop, owner, name="新人券", kind="no_threshold", amount_off=500, rule="referee")
    make_coupon(shop, owner, name="普通券", public=True)  # no rule: never given by a reward
    tea = make_product(shop, price=5000, stock=10)
    order = completed(shop, bob, address, tea, owner)
    assert not CouponGrant.objects.exists()  # pending rewards give nothing yet
    due = ReferralReward.objects.filter(order=order).first().grant_after
    assert referral_rewards_grant_due(now=due) == 2
    assert OutboxEvent.objects.filter(topic="referral.rewarded").count() == 2
    deliver_events()
    grants = {(g.shopper_id, g.coupon_id, g.source) for g in CouponGrant.objects.all()}
    assert grants == {
        (alice.pk, for_referrer.pk, GrantSource.REFERRAL),
        (bob.pk, for_referee.pk, GrantSource.REFERRAL),
    }
    # The event delivered again (a worker crash before marking it done) gives nothing twice.
    OutboxEvent.objects.filter(topic="referral.rewarded").update(dispatched_at=None)
    deliver_events()
    assert CouponGrant.objects.count() == 2


def test_no_referral_coupon_when_the_shop_runs_none(shop, owner):
    from siyu.promotions.coupons.grants import grants_for_referral

    alice = make_shopper("13700000001")
    make_coupon(shop, owner, rule="referrer", active=False)  # a draft is not given
    assert grants_for_referral(shop_id=shop.pk, shopper_id=alice.pk, reward_id=1, role="referrer") == 0
    assert grants_for_referral(shop_id=shop.pk, shopper_id=None, reward_id=1, role="referrer") == 0
    coupon = make_coupon(shop, owner, rule="referrer", valid_until=timezone.now() + timedelta(days=3))
    assert grants_for_referral(shop_id=shop.pk, shopper_id=alice.pk, reward_id=1, role="referee") == 0
    assert grants_for_referral(shop_id=shop.pk, shopper_id=alice.pk, reward_id=1, role="referrer") == 1
    assert CouponGrant.objects.get().coupon_id == coupon.pk
