"""Set-based accrual and settlement give exactly what the per-order path gives, and repeat safely."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.catalog.models import Category
from siyu.distribution import handlers, ledger
from siyu.distribution.commissions import commissions_accrue
from siyu.distribution.commissions_bulk import commissions_accrue_bulk, commissions_settle_bulk
from siyu.distribution.models import Commission, CommissionRule, LedgerAccount, LedgerEntry, PromoterFlag
from siyu.orders.models import Order

from ..factories import make_product
from ..orders.helpers import pay, place
from .promoter_steps import World, address_for, approved_promoter, referred_order, refund_line, ship_and_receive, world

pytestmark = pytest.mark.django_db


def build(shop, owner, monkeypatch, capture) -> tuple[World, list[Order]]:
    """Rules of every kind, two tiers, a discount, a refund before accrual, a received order, a
    self-purchase, an unpaid and an unreferred order; the order.paid reaction is switched off so
    that nothing is accrued yet."""
    monkeypatch.setattr(handlers, "commissions_accrue", lambda **kwargs: [])
    w = world(shop, owner, default_rate_bp=1000, tiers=2, second_tier_rate_bp=300, freeze_days=2)
    child = approved_promoter(shop, owner, parent=w.promoter)
    wc = World(shop, owner, child, w.buyer, w.address, w.tea)
    top = Category.objects.create(shop=shop, name="茶")
    sub = Category.objects.create(shop=shop, name="绿茶", parent=top)
    ruled = make_product(shop, name="有规则", price=12345, category=sub, stock=100)
    by_parent = make_product(shop, name="按大类", price=9999, category=sub, stock=100)
    CommissionRule.objects.create(shop=shop, product=ruled, tier=1, rate_bp=1777)
    CommissionRule.objects.create(shop=shop, category=top, tier=1, rate_bp=555)
    CommissionRule.objects.create(shop=shop, category=sub, tier=2, rate_bp=150)
    with capture(execute=True):
        orders = [
            referred_order(w, quantity=3),
            referred_order(wc, quantity=2, product=ruled),
            referred_order(wc, product=by_parent),
            referred_order(w, product=ruled),
            referred_order(w, buyer=w.promoter.shopper, address=address_for(shop, w.promoter.shopper)),
        ]
        received = referred_order(wc, quantity=2)
        ship_and_receive(wc, received)
        refunded = referred_order(w, quantity=3, product=by_parent)
        refund_line(w, refunded, 1)
        unreferred = place(shop, w.buyer, w.address, w.tea)
        pay(unreferred)
        place(shop, w.buyer, w.address, w.tea, ref_code=w.promoter.shopper.share_code)  # never paid
    Order.objects.filter(pk=orders[0].pk).update(discount=7)
    monkeypatch.undo()
    return w, [*orders, received, refunded, unreferred, *Order.objects.filter(paid_at__isnull=True)]


def snapshot(shop) -> dict:
    commissions = sorted(
        Commission.objects.values_list(
            "line_id", "tier", "promoter_id", "base_amount", "rate_bp", "amount", "status", "settle_after"
        )
    )
    per_account = sorted(
        (
            LedgerEntry.objects.values_list("account__promoter_id", "account__kind")
            .annotate(total=Sum("amount"), lines=Count("id"))
            .order_by()
        ),
        key=lambda row: (row[0] or 0, row[1]),
    )
    memos = sorted(LedgerEntry.objects.values_list("memo", "ref_type", "amount"))
    flags = sorted(PromoterFlag.objects.values_list("promoter_id", "kind", "data"))
    return {"commissions": commissions, "accounts": per_account, "memos": memos, "flags": flags}


def forget_accruals() -> None:
    LedgerEntry.objects.all().delete()
    LedgerAccount.objects.all().delete()
    Commission.objects.all().delete()
    PromoterFlag.objects.all().delete()


def assert_balanced() -> None:
    unbalanced = LedgerEntry.objects.values("transaction").annotate(t=Sum("amount"), n=Count("id")).exclude(t=0)
    assert not unbalanced.exists()
    assert set(LedgerEntry.objects.values("transaction").annotate(n=Count("id")).values_list("n", flat=True)) == {2}


def test_bulk_accrual_equals_per_order(shop, owner, monkeypatch, django_capture_on_commit_callbacks):
    w, orders = build(shop, owner, monkeypatch, django_capture_on_commit_callbacks)
    for order in orders:
        commissions_accrue(order_id=order.pk)
    expected = snapshot(shop)
    assert len(expected["commissions"]) == 9  # 5 referred lines x their tiers, none for self/unpaid/unreferred
    assert {row[1] for row in expected["commissions"]} == {1, 2}
    assert len(expected["flags"]) == 1 and any(row[7] for row in expected["commissions"])
    assert any(
        row[6] == Commission.Status.FROZEN and row[5] < row[3] * row[4] // 10000 for row in expected["commissions"]
    )
    forget_accruals()

    made = commissions_accrue_bulk(shop=shop, order_ids=[o.pk for o in orders])

    assert made == 9
    assert snapshot(shop) == expected
    assert_balanced()
    frozen = sum(ledger.balances_of(promoter=p)["frozen"] for p in w.shop.promoters.all())
    assert (
        frozen
        == Commission.objects.aggregate(t=Sum("amount"))["t"]
        == -ledger.balance(ledger.shop_account(shop.pk, ledger.EXPENSE))
    )


def test_bulk_accrual_runs_again_without_effect(shop, owner, monkeypatch, django_capture_on_commit_callbacks):
    _, orders = build(shop, owner, monkeypatch, django_capture_on_commit_callbacks)
    ids = [o.pk for o in orders]
    assert commissions_accrue_bulk(shop=shop, order_ids=ids[:3]) > 0
    partial = Commission.objects.count()
    commissions_accrue_bulk(shop=shop, order_ids=ids)
    first = snapshot(shop)
    assert Commission.objects.count() > partial
    assert commissions_accrue_bulk(shop=shop, order_ids=ids) == 0
    for order in orders:
        assert commissions_accrue(order_id=order.pk) == []  # nor does the per-order path add anything
    assert snapshot(shop) == first
    assert_balanced()


def test_bulk_accrual_statements_do_not_grow_with_orders(shop, owner):
    w = world(shop, owner, default_rate_bp=1000)
    few = [referred_order(w).pk for _ in range(2)]
    many = [referred_order(w, quantity=2).pk for _ in range(6)]
    with CaptureQueriesContext(connection) as small:
        commissions_accrue_bulk(shop=shop, order_ids=few)
    with CaptureQueriesContext(connection) as large:
        commissions_accrue_bulk(shop=shop, order_ids=many)
    assert len(large.captured_queries) <= len(small.captured_queries)
    assert Commission.objects.count() == 8 and LedgerEntry.objects.count() == 16


def test_bulk_settlement_moves_due_commissions_once(shop, owner, monkeypatch, django_capture_on_commit_callbacks):
    w, orders = build(shop, owner, monkeypatch, django_capture_on_commit_callbacks)
    commissions_accrue_bulk(shop=shop, order_ids=[o.pk for o in orders])
    due = list(Commission.objects.exclude(settle_after=None).values_list("pk", "promoter_id", "amount"))
    assert due and all(Commission.objects.get(pk=pk).status == Commission.Status.FROZEN for pk, _, _ in due)
    before = {p.pk: ledger.balances_of(promoter=p) for p in w.shop.promoters.all()}
    settle_at = Commission.objects.exclude(settle_after=None).first().settle_after
    assert commissions_settle_bulk(shop=shop, now=settle_at - timedelta(seconds=1)) == 0

    assert commissions_settle_bulk(shop=shop, now=settle_at) == len(due)

    assert commissions_settle_bulk(shop=shop, now=settle_at + timedelta(days=400)) == 0
    for pk, _promoter, amount in due:
        row = Commission.objects.get(pk=pk)
        assert (row.status, row.settled_at) == (Commission.Status.SETTLED, settle_at)
        assert [e.amount for e in ledger.entries_for(ref_type="commission", ref_id=pk)][-2:] == [-amount, amount]
    for promoter_id, was in before.items():
        moved = sum(amount for _, p, amount in due if p == promoter_id)
        now = ledger.balances_of(promoter=w.shop.promoters.get(pk=promoter_id))
        assert (now["frozen"], now["available"]) == (was["frozen"] - moved, was["available"] + moved)
    assert_balanced()
    assert Commission.objects.filter(status=Commission.Status.FROZEN, settle_after=None).exists()


def test_bulk_accrual_waits_for_distribution_enabled(shop, owner):
    w = world(shop, owner, default_rate_bp=1000)
    order = referred_order(w)
    w.shop.distribution_settings.enabled = False
    w.shop.distribution_settings.save()
    assert commissions_accrue_bulk(shop=shop, order_ids=[order.pk]) == 0
    assert not Commission.objects.exists()
    w.shop.distribution_settings.enabled = True
    w.shop.distribution_settings.save()
    assert commissions_accrue_bulk(shop=shop.pk, order_ids=[order.pk]) == 1
    assert Commission.objects.get().created_at <= timezone.now()
