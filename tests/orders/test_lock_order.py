"""One global lock order (siyu/core/locks.py): order → after-sale → payment → refund → stock.

The helpers refuse a lower rank after a higher one on any database, so these paths are checked by
the ordinary suite too; on PostgreSQL the locks each money path really takes are read off its SQL."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from siyu.core import locks
from siyu.orders.lifecycle import order_cancel, order_lock
from siyu.orders.models import AfterSale, Order
from siyu.payments import aftersales
from siyu.payments.models import Payment, Refund
from siyu.payments.services import payment_notify, refund_execute

from ..factories import make_product
from .helpers import ask, pay, place, sandbox_notice

RANK = {"orders_order": 20, "orders_aftersale": 30, "payments_payment": 40, "payments_refund": 50}


@pytest.fixture
def order(shop, shopper, address):
    order = place(shop, shopper, address, make_product(shop, price=5000, stock=10), quantity=2)
    pay(order)
    return order


def test_a_lower_rank_after_a_higher_one_is_refused(order):
    payment = Payment.objects.get(order=order)
    with transaction.atomic():
        locks.lock_one(Payment.objects.filter(pk=payment.pk), rank=locks.PAYMENT)
        with pytest.raises(locks.LockOrderViolation):
            order_lock(order_id=order.pk)


def test_rows_already_held_may_be_locked_again(order):
    payment = Payment.objects.get(order=order)
    with transaction.atomic():
        order_lock(order_id=order.pk)
        locks.lock_one(Payment.objects.filter(pk=payment.pk), rank=locks.PAYMENT)
        assert order_lock(order_id=order.pk).pk == order.pk  # a reaction re-locking its order
    with transaction.atomic():  # a new transaction starts from nothing
        locks.lock_one(Payment.objects.filter(pk=payment.pk), rank=locks.PAYMENT)


def _locked_tables(func) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        func()
    tables = []
    for q in queries.captured_queries:
        sql = q["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
            tables.append(table)
    return tables


def _assert_in_order(tables: list[str]) -> None:
    """Ranks never go down; a table seen before is a re-lock of held rows (a reaction re-locking
    the order it reacts to), which is allowed."""
    first_seen = [t for i, t in enumerate(tables) if t not in tables[:i]]
    ranks = [RANK[t] for t in first_seen if t in RANK]
    assert ranks, "no row locks seen"
    assert ranks == sorted(ranks), tables


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_money_paths_lock_in_the_global_order(shop, owner, order, monkeypatch, django_capture_on_commit_callbacks):
    first = ask(order, order.lines.get(), "refund_only", 1, "other")
    monkeypatch.setattr(aftersales, "refund_enqueue", lambda refund_id: None)  # settle by hand below
    _assert_in_order(
        _locked_tables(
            lambda: aftersales.aftersale_review(actor=owner, shop=shop, public_id=first.public_id, approve=True)
        )
    )
    refund = Refund.objects.get(after_sale=first)
    _assert_in_order(_locked_tables(lambda: refund_execute(refund_id=refund.pk)))
    assert AfterSale.objects.get(pk=first.pk).status == "refunded"
    other = place(shop, order.shopper, order.shopper.addresses.first(), make_product(shop, name="b", stock=3))
    headers, body = sandbox_notice(other)
    _assert_in_order(_locked_tables(lambda: order_cancel(order_id=other.pk, actor="system")))
    _assert_in_order(_locked_tables(lambda: payment_notify(provider="sandbox", headers=headers, body=body)))
    assert Order.objects.get(pk=other.pk).status == "paid"  # late payment, stock still there
