"""Rewards: written when a referred customer's first order completes, granted only after its
return window, and forfeited by a refund in the refund's own transaction."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry
from siyu.customers.models import PointsEntry
from siyu.customers.points import points_balance
from siyu.customers.stats import customer_for_shopper
from siyu.distribution.commissions import settle_after_for
from siyu.orders import lifecycle
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import AfterSaleStatus, Order, OrderStatus
from siyu.payments.models import Refund
from siyu.payments.services import refund_execute
from siyu.referrals import handlers
from siyu.referrals.models import CreditEntry, ReferralReward, ReferralSettings
from siyu.referrals.rewards import REWARD, credit_balance, referral_rewards_create, return_window_end
from siyu.referrals.services import referral_bind, referral_rewards_grant_due

from ..factories import make_product, make_shopper
from ..orders.helpers import ask
from .steps import completed, deliver_events, paid_order, receive, refund, shopper_with_address

pytestmark = pytest.mark.django_db
S = ReferralReward.Status


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", price=5000, stock=50)


@pytest.fixture
def alice(shop):
    return make_shopper("13700000001")


@pytest.fixture
def bob(shop, alice):
    """A new customer brought in by alice, with an address."""
    person, address = shopper_with_address(shop, "13700000002")
    referral_bind(shop=shop, referee=person, code=alice.share_code)
    person.address = address
    return person


def _points(shop, person) -> int:
    return points_balance(customer=customer_for_shopper(shop=shop, shopper=person))


def _referral_points(shop, person) -> int:
    customer = customer_for_shopper(shop=shop, shopper=person)
    return sum(
        PointsEntry.objects.filter(customer=customer, reason__startswith="referral").values_list("delta", flat=True)
    )


def test_rewards_fall_due_at_midnight_after_the_last_refund_day(settings):
    """The last day a refund can be asked for is the longer of the no-reason window and the
    quality-claim window; commission settlement uses the same rule (orders.windows)."""
    settings.SIYU_NO_REASON_RETURN_DAYS, settings.SIYU_QUALITY_CLAIM_DAYS = 7, 30
    received = timezone.make_aware(timezone.datetime(2025, 3, 10, 23, 50))
    end = return_window_end(received)
    assert timezone.localtime(end).date() == timezone.datetime(2025, 4, 10).date()  # 10 March + 30, then midnight
    assert timezone.localtime(end).hour == 0 and timezone.localtime(end).minute == 0
    assert end == settle_after_for(received_at=received, freeze_days=0)
    settings.SIYU_QUALITY_CLAIM_DAYS = 5
    assert timezone.localtime(return_window_end(received)).date() == timezone.datetime(2025, 3, 18).date()


def test_rewards_wait_for_the_return_window_then_are_granted_once(shop, owner, tea, alice, bob):
    order = completed(shop, bob, bob.address, tea, owner)
    rewards = {r.role: r for r in ReferralReward.objects.filter(order=order)}
    assert {role: (r.status, r.amount) for role, r in rewards.items()} == {
        "referrer": (S.PENDING, 500),
        "referee": (S.PENDING, 300),
    }
    due = rewards["referee"].grant_after
    assert due == return_window_end(order.received_at)
    assert referral_rewards_grant_due(now=due - timedelta(seconds=1)) == 0
    assert _referral_points(shop, alice) == 0 and _referral_points(shop, bob) == 0
    assert referral_rewards_grant_due(now=due) == 2
    assert referral_rewards_grant_due(now=due + timedelta(days=1)) == 0  # never twice
    assert _referral_points(shop, alice) == 500 and _referral_points(shop, bob) == 300
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.GRANTED}


def test_the_completion_event_delivered_twice_writes_the_rewards_once(shop, owner, tea, bob):
    order = completed(shop, bob, bob.address, tea, owner)
    assert referral_rewards_create(order_id=order.pk) == []
    assert ReferralReward.objects.count() == 2


def test_only_the_first_order_is_rewarded(shop, owner, tea, bob):
    completed(shop, bob, bob.address, tea, owner)
    second = completed(shop, bob, bob.address, tea, owner)
    assert not ReferralReward.objects.filter(order=second).exists()
    assert ReferralReward.objects.count() == 2


def test_a_first_order_paid_before_a_later_one_completes_first_still_decides(shop, owner, tea, bob):
    first = paid_order(shop, bob, bob.address, tea)
    second = completed(shop, bob, bob.address, tea, owner)
    assert not ReferralReward.objects.filter(order=second).exists()
    receive(first, owner)
    assert ReferralReward.objects.filter(order=first).count() == 2


def test_an_order_after_the_window_is_not_rewarded(shop, owner, tea, alice):
    person, address = shopper_with_address(shop)
    binding = referral_bind(shop=shop, referee=person, code=alice.share_code, now=timezone.now() - timedelta(days=31))
    assert binding.expires_at < timezone.now()
    completed(shop, person, address, tea, owner)
    assert not ReferralReward.objects.exists()


def test_staff_referrers_get_no_reward_but_the_new_customer_does(shop, owner, tea):
    person, address = shopper_with_address(shop)
    referral_bind(shop=shop, referee=person, code=owner.share_code)
    order = completed(shop, person, address, tea, owner)
    assert list(ReferralReward.objects.filter(order=order).values_list("role", flat=True)) == ["referee"]


def test_a_refund_before_the_grant_forfeits_the_rewards(
    shop, owner, tea, alice, bob, django_capture_on_commit_callbacks
):
    order = completed(shop, bob, bob.address, tea, owner, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund(shop, owner, order, quantity=1)
    sale.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.SKIPPED}
    assert referral_rewards_grant_due(now=timezone.now() + timedelta(days=30)) == 0
    assert _referral_points(shop, alice) == 0


def test_open_after_sales_hold_the_grant(shop, owner, tea, bob):
    from siyu.payments import aftersales

    order = completed(shop, bob, bob.address, tea, owner)
    aftersales.aftersale_request(
        shop=shop,
        shopper=bob,
        order_public_id=order.public_id,
        line_id=order.lines.get().pk,
        kind="refund_only",
        quantity=1,
        reason_code="quality",
    )
    assert referral_rewards_grant_due(now=timezone.now() + timedelta(days=40)) == 0
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.PENDING}


def test_a_refund_after_the_grant_reverses_both_in_the_refunds_transaction(
    shop, owner, tea, alice, bob, monkeypatch, django_capture_on_commit_callbacks
):
    order = completed(shop, bob, bob.address, tea, owner)
    referral_rewards_grant_due(now=timezone.now() + timedelta(days=40))
    assert _referral_points(shop, alice) == 500 and _referral_points(shop, bob) == 300

    def broken(**kwargs):
        raise RuntimeError("rewards store down")

    monkeypatch.setattr(handlers, "referral_rewards_reverse", broken)
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund(shop, owner, order, reason="quality")
    # the reversal failed, so the refund did not settle either: nothing half-done
    sale.refresh_from_db()
    order.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDING and order.refunded_amount == order.paid_amount
    assert order.status == OrderStatus.COMPLETED and order.lines.get().refunded_amount == 0
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.GRANTED}
    assert _referral_points(shop, alice) == 500

    monkeypatch.undo()
    refund_execute(refund_id=Refund.objects.get(after_sale_id=sale.pk).pk)
    sale.refresh_from_db()
    order.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED and order.status == OrderStatus.CLOSED
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.REVERSED}
    assert _referral_points(shop, alice) == 0 and _referral_points(shop, bob) == 0
    assert _points(shop, alice) == 0


def test_a_reversal_never_overdraws_and_notes_what_was_spent(
    shop, owner, tea, alice, bob, django_capture_on_commit_callbacks
):
    order = completed(shop, bob, bob.address, tea, owner)
    referral_rewards_grant_due(now=timezone.now() + timedelta(days=40))
    spender = customer_for_shopper(shop=shop, shopper=alice)
    PointsEntry.objects.create(shop=shop, customer=spender, delta=-450, reason="redeem")
    with django_capture_on_commit_callbacks(execute=True):
        refund(shop, owner, order)
    reward = ReferralReward.objects.get(role="referrer")
    assert reward.status == S.REVERSED and "450" in reward.note
    assert _points(shop, alice) == 0


def test_store_credit_rewards_use_the_credit_ledger(shop, owner, tea, alice, bob, django_capture_on_commit_callbacks):
    ReferralSettings.objects.update_or_create(shop=shop, defaults={"reward_kind": "credit", "referrer_reward": 1000})
    order = completed(shop, bob, bob.address, tea, owner)
    referral_rewards_grant_due(now=timezone.now() + timedelta(days=40))
    alice_customer = customer_for_shopper(shop=shop, shopper=alice)
    assert credit_balance(customer=alice_customer) == 1000 and _referral_points(shop, alice) == 0
    with django_capture_on_commit_callbacks(execute=True):
        refund(shop, owner, order)
    assert credit_balance(customer=alice_customer) == 0
    assert list(CreditEntry.objects.filter(customer=alice_customer).order_by("id").values_list("reason", "delta")) == [
        ("referral", 1000),
        ("referral_reverse", -1000),
    ]


def _received_days_ago(shop, owner, person, product, days: int) -> Order:
    """A referee's first order, received `days` ago: the receipt is moved back before the
    completion event is delivered, so the rewards are written as they would have been then."""
    order = paid_order(shop, person, person.address, product)
    order_ship(actor=owner, order_id=order.pk, carrier="中通", tracking_number="ZT1")
    lifecycle.order_confirm_receipt(order_id=order.pk, actor=person)
    Order.objects.filter(pk=order.pk).update(received_at=F("received_at") - timedelta(days=days))
    deliver_events()
    order.refresh_from_db()
    return order


def test_a_quality_claim_on_day_29_finds_the_rewards_pending_and_forfeits_them(
    shop, owner, tea, alice, bob, settings, django_capture_on_commit_callbacks
):
    settings.SIYU_NO_REASON_RETURN_DAYS, settings.SIYU_QUALITY_CLAIM_DAYS = 7, 30
    order = _received_days_ago(shop, owner, bob, tea, 29)
    assert referral_rewards_grant_due(now=timezone.now()) == 0  # past the 7 days, not past the 30
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.PENDING}
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund(shop, owner, order, reason="quality")
    sale.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED
    assert set(ReferralReward.objects.values_list("status", flat=True)) == {S.SKIPPED}  # never granted
    assert _points(shop, alice) == 0 and _referral_points(shop, bob) == 0
    skipped = AuditEntry.objects.filter(action="referral_reward.skipped")
    assert sorted((e.data["from"], e.data["to"]) for e in skipped) == [("pending", "skipped")] * 2


def test_after_the_longest_window_claims_are_refused_and_the_rewards_are_granted(
    shop, owner, tea, alice, bob, settings
):
    settings.SIYU_NO_REASON_RETURN_DAYS, settings.SIYU_QUALITY_CLAIM_DAYS = 7, 30
    order = _received_days_ago(shop, owner, bob, tea, 31)
    with pytest.raises(Conflict) as refused:
        ask(order, order.lines.get(), "refund_only", 1, "quality")
    assert refused.value.code == "window_closed"
    due = ReferralReward.objects.values_list("grant_after", flat=True).first()
    assert timezone.localdate(due) == timezone.localdate(order.received_at) + timedelta(days=31)
    assert referral_rewards_grant_due(now=timezone.now()) == 2
    assert _referral_points(shop, alice) == 500 and _referral_points(shop, bob) == 300
    granted = AuditEntry.objects.filter(action="referral_reward.granted")
    moves = sorted((e.data["from"], e.data["to"], e.actor_label) for e in granted)
    assert moves == [("pending", "granted", "system")] * 2


def test_reward_table_walks_every_allowed_move_and_refuses_the_rest(shop, owner, tea, bob):
    completed(shop, bob, bob.address, tea, owner)
    reward = ReferralReward.objects.filter(role="referee").get()
    assert set(REWARD.table) == set(S.values)
    for start in S.values:
        for to in S.values:
            ReferralReward.objects.filter(pk=reward.pk).update(status=start)
            reward.refresh_from_db()
            if REWARD.can(start, to):
                REWARD.move(reward, to=to, actor="tester", why="walk")
                reward.refresh_from_db()
                entry = AuditEntry.objects.order_by("-id").first()
                assert reward.status == to and entry.action == f"referral_reward.{to}"
                assert entry.data == {"from": start, "to": to, "why": "walk"}
                continue
            with pytest.raises(Conflict) as refused:
                REWARD.move(reward, to=to, actor="tester")
            assert refused.value.code == "bad_transition"
            reward.refresh_from_db()
            assert reward.status == start
    assert REWARD.allowed(S.PENDING) == {S.GRANTED, S.SKIPPED} and REWARD.allowed(S.GRANTED) == {S.REVERSED}
