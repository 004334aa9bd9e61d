"""Shared steps for the membership, points and privacy tests."""

import secrets
from datetime import timedelta

from django.utils import timezone

from siyu.core.events import event_dispatch, events_pending
from siyu.orders import lifecycle
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import Order, OrderStatus

from ..orders.helpers import pay, place


def deliver_events() -> int:
    """Run the outbox handlers (the worker's job) for everything pending."""
    return sum(event_dispatch(event_id=pk) for pk in events_pending())


def bare_order(shop, shopper, *, status=OrderStatus.COMPLETED, paid=0, points_used=0) -> Order:
    """An order row made directly, for ledger tests that need many orders quickly."""
    return Order.objects.create(
        shop=shop,
        public_id=secrets.token_hex(8),
        number=secrets.token_hex(10),
        shopper=shopper,
        idempotency_key=secrets.token_hex(8),
        status=status,
        subtotal=paid,
        total=paid,
        paid_amount=paid,
        points_used=points_used,
        recipient="王五",
        phone="13800138000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_detail="文三路 1 号",
        pay_deadline=timezone.now() + timedelta(minutes=30),
    )


def completed_order(shop, shopper, owner, address, product, quantity=1, **extra) -> Order:
    """Placed, paid, shipped and received through the real services; its events delivered."""
    order = place(shop, shopper, address, product, quantity=quantity, **extra)
    pay(order)
    order_ship(actor=owner, order_id=order.pk, carrier="中通", tracking_number="ZT" + secrets.token_hex(4))
    lifecycle.order_confirm_receipt(order_id=order.pk, actor=shopper)
    deliver_events()
    order.refresh_from_db()
    return order
