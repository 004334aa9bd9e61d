"""Coupons given by rules and pushed to segments; money interplay (commissions, points)."""

from datetime import date

from siyu.customers.membership import customer_level_refresh
from siyu.customers.models import Customer, MemberLevel, Segment, SegmentMember
from siyu.customers.stats import customer_for_shopper
from siyu.promotions.coupons.grants import (
    coupon_push_run,
    coupon_push_start,
    grants_for_birthdays,
    grants_for_first_order,
)
from siyu.promotions.coupons.models import CouponGrant, CouponPush, PushStatus

from ...factories import make_product, make_shopper
from ...orders.helpers import pay, place
from .steps import make_coupon


def test_first_paid_order_gives_the_first_order_coupon_once(shop, owner, shopper, address):
    coupon = make_coupon(shop, owner, rule="first_order", public=False, kind="no_threshold", amount_off=500)
    tea = make_product(shop, price=3000)
    first = place(shop, shopper, address, tea)
    pay(first)
    assert grants_for_first_order(order_id=first.pk) == 1
    assert grants_for_first_order(order_id=first.pk) == 0  # a repeat delivery gives nothing more
    second = place(shop, shopper, address, tea, options={"coupon": "none"})
    pay(second)
    assert grants_for_first_order(order_id=second.pk) == 0
    assert CouponGrant.objects.filter(coupon=coupon, shopper=shopper, source="first_order").count() == 1


def test_birthday_coupons_once_a_year(shop, owner, shopper):
    coupon = make_coupon(shop, owner, rule="birthday", public=False, valid_days=7)
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    Customer.objects.filter(pk=customer.pk).update(birthday=date(1990, 5, 17))
    assert grants_for_birthdays(shop_id=shop.pk, today=date(2025, 5, 16)) == 0
    assert grants_for_birthdays(shop_id=shop.pk, today=date(2025, 5, 17)) == 1
    assert grants_for_birthdays(shop_id=shop.pk, today=date(2025, 5, 17)) == 0
    assert grants_for_birthdays(shop_id=shop.pk, today=date(2026, 5, 17)) == 1
    assert CouponGrant.objects.filter(coupon=coupon).count() == 2


def test_level_up_gives_the_level_coupon(shop, owner, shopper, django_capture_on_commit_callbacks):
    from siyu.core.events import event_dispatch
    from siyu.core.models import OutboxEvent

    coupon = make_coupon(shop, owner, rule="level_up", public=False, valid_days=30)
    MemberLevel.objects.create(shop=shop, name="金卡", min_spend=100)
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    Customer.objects.filter(pk=customer.pk).update(total_spent=500)
    customer_level_refresh(customer=customer)
    event = OutboxEvent.objects.get(topic="customer.level_changed")
    assert event.payload["up"] is True
    event_dispatch(event_id=event.pk)
    assert CouponGrant.objects.filter(coupon=coupon, shopper=shopper, source="level_up").count() == 1


def test_push_to_a_segment_in_batches_with_progress_idempotent(
    shop, owner, monkeypatch, django_capture_on_commit_callbacks
):
    from siyu.promotions.coupons import grants

    monkeypatch.setattr(grants, "BATCH", 2)
    coupon = make_coupon(shop, owner, total=4, public=False)
    segment = Segment.objects.create(shop=shop, name="老客", rules={})
    shoppers = [make_shopper() for _ in range(5)]
    for s in shoppers:
        SegmentMember.objects.create(segment=segment, customer=customer_for_shopper(shop=shop, shopper=s))
    never_signed_in = Customer.objects.create(shop=shop, public_id="nosignin1", phone_hash="x" * 64)
    SegmentMember.objects.create(segment=segment, customer=never_signed_in)
    with django_capture_on_commit_callbacks(execute=False):
        push = coupon_push_start(actor=owner, coupon=coupon, segment_id=segment.pk)
    assert (push.status, push.total) == (PushStatus.QUEUED, 6)
    push = coupon_push_run(push_id=push.pk)
    assert push.status == PushStatus.FAILED and push.note == "no coupons left"
    assert push.granted == 4 and CouponGrant.objects.filter(coupon=coupon).count() == 4
    assert coupon_push_run(push_id=push.pk).granted == 4  # not queued any more: a rerun does nothing
    assert CouponPush.objects.get(pk=push.pk).percent <= 100


def test_commission_and_points_come_from_what_was_paid_after_the_coupon(
    shop, owner, django_capture_on_commit_callbacks
):
    from siyu.distribution.models import Commission
    from siyu.promotions.coupons.services import coupon_claim

    from ...distribution.promoter_steps import referred_order, world

    w = world(shop, owner, default_rate_bp=1000)
    coupon = make_coupon(shop, owner)
    coupon_claim(shop=shop, shopper=w.buyer, public_id=coupon.public_id)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=2)  # 2 × 100 yuan, 20 yuan off
    assert order.discount == 2000 and order.paid_amount == 18000
    assert Commission.objects.get(order=order).amount == 1800  # 10% of what was paid


def test_member_discount_applies_after_the_coupon(shop, owner, shopper, address):
    from siyu.orders.checkout import order_quote
    from siyu.promotions.coupons.services import coupon_claim

    coupon = make_coupon(shop, owner)
    coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    tea = make_product(shop, price=6000)
    level = MemberLevel.objects.create(shop=shop, name="银卡", min_spend=0, discount_bp=1000)
    quote = order_quote(shop=shop, shopper=shopper, items=[{"sku": tea.skus.get().pk, "quantity": 2}])
    kinds = [(a.kind, a.amount) for a in quote.adjustments]
    assert kinds[0] == ("coupon", 2000)
    member = dict(kinds).get("member_discount")
    assert member == (12000 - 2000) * level.discount_bp // 10000  # on what the coupon left
