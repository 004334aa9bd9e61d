"""Commission: accrued on payment, reduced and cancelled with refunds, settled after the window."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from siyu.catalog.models import Category
from siyu.core.errors import Conflict
from siyu.core.events import event_dispatch
from siyu.core.models import AuditEntry, OutboxEvent
from siyu.distribution import commissions as commission_service
from siyu.distribution import handlers, ledger
from siyu.distribution.commissions import commissions_accrue, settle_after_for
from siyu.distribution.commissions_bulk import commissions_settle_due
from siyu.distribution.models import Commission, CommissionRule, LedgerEntry, PromoterFlag
from siyu.orders.checkout import order_place
from siyu.orders.models import AfterSaleStatus, Order, OrderStatus
from siyu.payments import aftersales

from ..factories import make_product
from ..orders.helpers import ask
from .promoter_steps import (
    World,
    address_for,
    approved_promoter,
    received_days_ago,
    referred_order,
    refund_line,
    ship_and_receive,
    world,
)

pytestmark = pytest.mark.django_db


def balances(promoter):
    return ledger.balances_of(promoter=promoter)


def test_paid_order_accrues_frozen_commission_once(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1234)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=3)  # 300.00
    commission = Commission.objects.get()
    assert (commission.promoter, commission.tier, commission.status) == (w.promoter, 1, Commission.Status.FROZEN)
    assert (commission.base_amount, commission.rate_bp, commission.amount) == (30000, 1234, 3702)
    assert balances(w.promoter) == {"frozen": 3702, "available": 0, "paid_out": 0}
    assert ledger.balance(ledger.shop_account(shop.pk, ledger.EXPENSE)) == -3702
    # the event delivered again, and the service called again: nothing more
    OutboxEvent.objects.filter(topic="order.paid").update(dispatched_at=None)
    event = OutboxEvent.objects.get(topic="order.paid")
    assert event_dispatch(event_id=event.pk)
    assert commissions_accrue(order_id=order.pk) == []
    assert Commission.objects.count() == 1 and LedgerEntry.objects.count() == 2
    assert {e.ref_type for e in ledger.entries_for(ref_type="commission", ref_id=commission.pk)} == {"commission"}


def test_commission_is_on_what_was_paid_rounded_down(shop, owner, settings):
    """Two lines of 9.99 with a 0.01 discount: each line's paid share is 9.985 → 9.98, and 7.77%
    of it is 0.7754… → 0.77; never a fen more than was paid."""
    w = world(shop, owner, price=999, default_rate_bp=777)
    green = make_product(shop, name="绿茶", price=999, stock=10)
    order = order_place(
        shop=shop,
        shopper=w.buyer,
        items=[{"sku": w.tea.skus.get().pk, "quantity": 1}, {"sku": green.skus.get().pk, "quantity": 1}],
        address_id=w.address.public_id,
        idempotency_key="round-0001",
        ref_code=w.promoter.shopper.share_code,
    )
    Order.objects.filter(pk=order.pk).update(discount=1, total=order.total - 1, paid_amount=order.total - 1)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID, paid_at=timezone.now())
    made = commissions_accrue(order_id=order.pk)
    assert [(c.base_amount, c.amount) for c in made] == [(998, 77), (998, 77)]
    assert sum(c.base_amount for c in made) <= 999 + 999 - 1


def test_product_rule_wins_over_category_over_default(shop, owner, django_capture_on_commit_callbacks):
    top = Category.objects.create(shop=shop, name="茶")
    sub = Category.objects.create(shop=shop, name="绿茶", parent=top)
    w = world(shop, owner, default_rate_bp=100)
    ruled = make_product(shop, name="有规则", price=10000, category=sub)
    by_parent = make_product(shop, name="按大类", price=10000, category=sub)
    CommissionRule.objects.create(shop=shop, product=ruled, tier=1, rate_bp=900)
    CommissionRule.objects.create(shop=shop, category=top, tier=1, rate_bp=500)
    with django_capture_on_commit_callbacks(execute=True):
        referred_order(w, product=ruled)
        referred_order(w, product=by_parent)
        referred_order(w)  # no category: the shop default
    assert sorted(Commission.objects.values_list("rate_bp", "amount")) == [(100, 100), (500, 500), (900, 900)]


def test_second_tier_only_when_two_tiers_and_parent_approved(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, tiers=1, default_rate_bp=1000, second_tier_rate_bp=300)
    child = approved_promoter(shop, owner, parent=w.promoter)
    assert child.parent == w.promoter
    w_child = World(shop, owner, child, w.buyer, w.address, w.tea)
    with django_capture_on_commit_callbacks(execute=True):
        referred_order(w_child)
    assert list(Commission.objects.values_list("promoter", "tier", "amount")) == [(child.pk, 1, 1000)]
    w.shop.distribution_settings.tiers = 2
    w.shop.distribution_settings.save()
    with django_capture_on_commit_callbacks(execute=True):
        referred_order(w_child)
    assert sorted(Commission.objects.values_list("promoter", "tier", "amount")) == [
        (w.promoter.pk, 2, 300),
        (child.pk, 1, 1000),
        (child.pk, 1, 1000),
    ]


def test_self_purchase_earns_nothing_and_is_flagged(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner)
    own = address_for(shop, w.promoter.shopper)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, buyer=w.promoter.shopper, address=own)
    assert order.status == OrderStatus.PAID
    assert not Commission.objects.exists() and not LedgerEntry.objects.exists()
    flag = PromoterFlag.objects.get()
    assert (flag.promoter, flag.kind, flag.data["order"]) == (w.promoter, "self_purchase", order.pk)
    commissions_accrue(order_id=order.pk)
    assert PromoterFlag.objects.count() == 1


def test_unknown_or_unapproved_code_earns_nothing(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner)
    w.promoter.status = "suspended"
    w.promoter.save()
    with django_capture_on_commit_callbacks(execute=True):
        referred_order(w)
    assert not Commission.objects.exists()


def test_partial_refund_reduces_and_full_refund_cancels(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1000)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=3)
    assert Commission.objects.get().amount == 3000
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund_line(w, order, 1)
    sale.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED
    commission = Commission.objects.get()
    assert (commission.amount, commission.status) == (2000, Commission.Status.FROZEN)
    assert balances(w.promoter)["frozen"] == 2000
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 2)
    order.refresh_from_db()
    commission.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    assert (commission.amount, commission.status) == (0, Commission.Status.CANCELLED)
    assert balances(w.promoter)["frozen"] == 0
    assert list(
        LedgerEntry.objects.filter(account__promoter=w.promoter).order_by("id").values_list("amount", flat=True)
    ) == [
        3000,
        -1000,
        -2000,
    ]
    assert commission_service.commissions_reverse_for_refund(order_id=order.pk) == 0  # repeatable


def test_commission_reversal_commits_with_the_refund(shop, owner, monkeypatch, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1000)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=2)

    def broken(**kwargs):
        raise RuntimeError("ledger down")

    monkeypatch.setattr(handlers, "commissions_reverse_for_refund", broken)
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund_line(w, order, 1)
    sale.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDING  # the refund did not settle: retried later
    assert order.lines.get().refunded_amount == 0
    assert Commission.objects.get().amount == 2000 and balances(w.promoter)["frozen"] == 2000


def test_settlement_waits_for_receipt_window_and_freeze(shop, owner, settings, django_capture_on_commit_callbacks):
    settings.SIYU_NO_REASON_RETURN_DAYS = 7
    settings.SIYU_QUALITY_CLAIM_DAYS = 30
    w = world(shop, owner, default_rate_bp=1000, freeze_days=3)
    with django_capture_on_commit_callbacks(execute=True):
        never_received = referred_order(w)
        order = referred_order(w)
        ship_and_receive(w, order)
    far_future = timezone.now() + timedelta(days=365)
    commission = Commission.objects.get(order=order)
    expected = settle_after_for(received_at=order.received_at, freeze_days=3)
    assert commission.settle_after == expected
    received_day = timezone.localdate(order.received_at)
    assert timezone.localdate(expected) == received_day + timedelta(days=34)  # day after + the 30 of quality claims + 3
    assert commissions_settle_due(now=expected - timedelta(seconds=1)) == 0
    assert commissions_settle_due(now=expected) == 1
    commission.refresh_from_db()
    assert commission.status == Commission.Status.SETTLED and commission.settled_at == expected
    assert balances(w.promoter) == {"frozen": 1000, "available": 1000, "paid_out": 0}
    assert commissions_settle_due(now=far_future) == 0  # the unreceived order never settles
    assert Commission.objects.get(order=never_received).status == Commission.Status.FROZEN


def test_open_after_sale_holds_settlement(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=2)
        ship_and_receive(w, order)
        aftersales.aftersale_request(
            shop=shop,
            shopper=w.buyer,
            order_public_id=order.public_id,
            line_id=order.lines.get().pk,
            kind="refund_only",
            quantity=1,
            reason_code="other",
        )
    later = timezone.now() + timedelta(days=60)
    assert commissions_settle_due(now=later) == 0


def test_refund_after_settlement_takes_back_from_available(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1000, freeze_days=0)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=2)
        ship_and_receive(w, order)
    commissions_settle_due(now=timezone.now() + timedelta(days=40))
    assert balances(w.promoter)["available"] == 2000
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 1)  # staff refunding after settlement: taken back from what is available
    assert balances(w.promoter)["available"] == 1000
    assert Commission.objects.get().amount == 1000


def test_ledger_totals_match_commissions(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1500)
    with django_capture_on_commit_callbacks(execute=True):
        for quantity in (1, 2, 3):
            referred_order(w, quantity=quantity)
    total = Commission.objects.aggregate(t=Sum("amount"))["t"]
    assert balances(w.promoter)["frozen"] == total == 9000
    for txn in LedgerEntry.objects.values_list("transaction", flat=True).distinct():
        assert LedgerEntry.objects.filter(transaction=txn).aggregate(t=Sum("amount"))["t"] == 0


def test_settlement_date_follows_the_longest_refund_window(shop, owner, settings):
    received = timezone.make_aware(timezone.datetime(2025, 3, 10, 23, 50))
    settings.SIYU_NO_REASON_RETURN_DAYS, settings.SIYU_QUALITY_CLAIM_DAYS = 7, 30
    assert timezone.localtime(settle_after_for(received_at=received, freeze_days=7)) == timezone.make_aware(
        timezone.datetime(2025, 4, 17)  # 10 March + 30 days of quality claims, the next midnight, + 7 frozen
    )
    settings.SIYU_QUALITY_CLAIM_DAYS = 3  # shorter than the no-reason window: that one is the longest
    assert (
        timezone.localdate(settle_after_for(received_at=received, freeze_days=7))
        == timezone.datetime(2025, 3, 25).date()
    )


def test_a_quality_claim_on_day_29_finds_the_commission_frozen_and_reverses_it(
    shop, owner, settings, django_capture_on_commit_callbacks
):
    settings.SIYU_NO_REASON_RETURN_DAYS, settings.SIYU_QUALITY_CLAIM_DAYS = 7, 30
    w = world(shop, owner, default_rate_bp=1000, freeze_days=7)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w, quantity=2)
        ship_and_receive(w, order)
    received_days_ago(order, 29)  # past the 7 days and the 7-day freeze, inside the 30 days of quality claims
    assert commissions_settle_due(now=timezone.now()) == 0
    commission = Commission.objects.get()
    assert commission.status == Commission.Status.FROZEN and commission.settle_after > timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        sale = refund_line(w, order, 2, reason_code="quality")
    sale.refresh_from_db()
    commission.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED
    assert (commission.amount, commission.status) == (0, Commission.Status.CANCELLED)
    assert balances(w.promoter) == {"frozen": 0, "available": 0, "paid_out": 0}
    assert not PromoterFlag.objects.filter(kind="clawback_short").exists()
    cancelled = AuditEntry.objects.get(action="commission.cancelled", target_id=str(commission.pk))
    assert (cancelled.data["from"], cancelled.data["to"], cancelled.actor_label) == ("frozen", "cancelled", "refund")


def test_after_the_longest_window_claims_are_refused_and_the_commission_settles(
    shop, owner, settings, django_capture_on_commit_callbacks
):
    settings.SIYU_NO_REASON_RETURN_DAYS, settings.SIYU_QUALITY_CLAIM_DAYS = 7, 30
    w = world(shop, owner, default_rate_bp=1000, freeze_days=7)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w)
        ship_and_receive(w, order)
    received_days_ago(order, 31)
    line = order.lines.get()
    for reason in ("quality", "no_reason"):
        with pytest.raises(Conflict) as refused:
            ask(order, line, "refund_only", 1, reason)
        assert refused.value.code == "window_closed"
    assert commissions_settle_due(now=timezone.now()) == 0  # still frozen for the 7 days after the window
    commission = Commission.objects.get()
    last_refund_day = timezone.localdate(order.received_at) + timedelta(days=30)
    assert commission.settle_after == timezone.make_aware(
        timezone.datetime.combine(last_refund_day + timedelta(days=1 + 7), timezone.datetime.min.time())
    )
    assert commissions_settle_due(now=commission.settle_after - timedelta(seconds=1)) == 0
    assert commissions_settle_due(now=commission.settle_after) == 1
    assert balances(w.promoter) == {"frozen": 0, "available": 1000, "paid_out": 0}
    summary = AuditEntry.objects.get(action="commission.settled")
    assert summary.data == {"from": "frozen", "to": "settled", "why": "refund window and freeze over", "count": 1}
