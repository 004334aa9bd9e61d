"""Auto-confirm: a shipped order counts as received SIYU_AUTO_CONFIRM_DAYS after it shipped, and
everything counted from receipt starts at that moment: the 7-day no-reason return window and the
last refund day commissions wait for."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone, translation

from siyu.core.errors import Conflict
from siyu.core.models import OutboxEvent
from siyu.distribution.commissions import settle_after_for
from siyu.distribution.commissions_bulk import commissions_settle_due
from siyu.distribution.models import Commission
from siyu.orders.fulfilment import order_ship
from siyu.orders.lifecycle import order_confirm_receipt, orders_auto_confirm_due
from siyu.orders.models import Order, OrderStatus
from siyu.orders.states import timeline_entries
from siyu.orders.windows import refund_window_end

from ..distribution.promoter_steps import referred_order, world
from ..factories import make_product
from .helpers import ask, pay, place

S = OrderStatus


@pytest.fixture(autouse=True)
def _ten_days(settings):
    settings.SIYU_AUTO_CONFIRM_DAYS = 10
    settings.SIYU_NO_REASON_RETURN_DAYS = 7


def shipped(order, owner, days_ago: int):
    order_ship(actor=owner, order_id=order.pk, carrier="中通", tracking_number="ZT1")
    Order.objects.filter(pk=order.pk).update(shipped_at=F("shipped_at") - timedelta(days=days_ago))
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def paid(shop, shopper, address):
    order = place(shop, shopper, address, make_product(shop, name="龙井", price=5000, stock=5))
    pay(order)
    return order


def test_only_orders_shipped_longer_ago_than_the_days(paid, owner, shop, shopper, address):
    recent = place(shop, shopper, address, make_product(shop, name="新茶", stock=5))
    pay(recent)
    shipped(recent, owner, days_ago=9)
    unshipped = place(shop, shopper, address, make_product(shop, name="未发", stock=5))
    pay(unshipped)
    shipped(paid, owner, days_ago=11)
    assert orders_auto_confirm_due() == 1
    order = Order.objects.get(pk=paid.pk)
    assert order.status == S.COMPLETED and order.received_at is not None
    assert timezone.now() - order.received_at < timedelta(hours=1)  # received when confirmed, not when shipped
    assert Order.objects.get(pk=recent.pk).status == S.SHIPPED
    assert Order.objects.get(pk=unshipped.pk).status == S.PAID
    assert OutboxEvent.objects.filter(topic="order.completed", payload__order=paid.pk).count() == 1
    with translation.override("en"):
        last = timeline_entries(order=order)[-1]
    assert (last["action"], last["who"], last["note"]) == (
        "Receipt confirmed",
        "System",
        "Receipt confirmed automatically",
    )
    assert (last["from"], last["to"]) == ("Shipped", "Completed")
    assert orders_auto_confirm_due() == 0  # once


def test_a_shopper_confirmed_order_is_left_alone(paid, owner):
    shipped(paid, owner, days_ago=11)
    order_confirm_receipt(order_id=paid.pk, actor=paid.shopper)
    received = Order.objects.get(pk=paid.pk).received_at
    assert orders_auto_confirm_due() == 0
    assert Order.objects.get(pk=paid.pk).received_at == received


def test_an_open_claim_holds_auto_confirm(paid, owner):
    order = shipped(paid, owner, days_ago=11)
    ask(order, order.lines.get(), "refund_only", 1, "not_received")
    assert orders_auto_confirm_due() == 0
    assert Order.objects.get(pk=paid.pk).status == S.SHIPPED


def test_no_reason_window_counts_from_the_auto_confirmed_receipt(paid, owner):
    order = shipped(paid, owner, days_ago=11)  # 11 days since shipping: past 7 if counted from there
    orders_auto_confirm_due()
    order = Order.objects.get(pk=order.pk)
    sale = ask(order, order.lines.get(), "return_refund", 1, "no_reason")
    assert sale.status == "requested"
    sale.delete()
    # Seven days after the day of the automatic receipt the window is still open; on the eighth it is closed.
    Order.objects.filter(pk=order.pk).update(received_at=F("received_at") - timedelta(days=7))
    ask(order, order.lines.get(), "return_refund", 1, "no_reason").delete()
    Order.objects.filter(pk=order.pk).update(received_at=F("received_at") - timedelta(days=1))
    with pytest.raises(Conflict) as closed:
        ask(order, order.lines.get(), "return_refund", 1, "no_reason")
    assert closed.value.code == "window_closed"


def test_commission_settles_after_the_refund_window_of_the_auto_receipt(
    shop, owner, django_capture_on_commit_callbacks
):
    w = world(shop, owner, default_rate_bp=1000, freeze_days=0)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w)
    with django_capture_on_commit_callbacks(execute=True):
        shipped(order, owner, days_ago=11)
    shipped_at = Order.objects.get(pk=order.pk).shipped_at
    with django_capture_on_commit_callbacks(execute=True):
        assert orders_auto_confirm_due() == 1
    order = Order.objects.get(pk=order.pk)
    commission = Commission.objects.get(order=order)
    end = refund_window_end(received_at=order.received_at)
    assert commission.settle_after == settle_after_for(received_at=order.received_at, freeze_days=0) == end
    assert end > refund_window_end(received_at=shipped_at)  # not counted from shipping
    assert commissions_settle_due(now=end - timedelta(seconds=1)) == 0
    assert commissions_settle_due(now=end) == 1
    assert Commission.objects.get(pk=commission.pk).status == Commission.Status.SETTLED
