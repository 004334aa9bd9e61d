"""Membership and points wired into checkout and the order events (imported by handlers.py).

In the order's own transaction (they must commit or fail with it): points redeemed when an order
is placed (refusal rolls the order back), given back when it is cancelled, and reversed when it is
refunded. Through the outbox, after the figures are refreshed: points earned on completion and
the customer's level recomputed whenever their spend may have changed.
"""

from siyu.core.events import event_order_id, subscribe
from siyu.orders.models import Order
from siyu.orders.pricing import register_adjuster

from .membership import customer_level_refresh, member_adjustments
from .points import points_earn, points_redeem, points_restore, points_reverse
from .stats import customer_for_shopper

register_adjuster(member_adjustments)


@subscribe("order.placed", in_transaction=True)
def redeem_on_place(event) -> None:
    if event.payload.get("points_used"):
        points_redeem(order=event_order_id(event))


@subscribe("order.cancelled", in_transaction=True)
def restore_on_cancel(event) -> None:
    points_restore(order=event_order_id(event))


@subscribe("order.refunded", in_transaction=True)
def reverse_on_refund(event) -> None:
    points_reverse(order=event_order_id(event), after_sale_id=event.payload.get("after_sale"))


@subscribe("order.completed")
def earn_on_complete(event) -> None:
    points_earn(order=event_order_id(event))


def _level(event) -> None:
    order = Order.objects.select_related("shop", "shopper").filter(pk=event_order_id(event)).first()
    if order is not None:
        customer_level_refresh(customer=customer_for_shopper(shop=order.shop, shopper=order.shopper))


# Registered after the figures handler (handlers.py imports this module last), so the level
# follows the refreshed spend within the same delivery.
for _topic in ("order.paid", "order.completed", "order.refunded", "order.cancelled"):
    subscribe(_topic)(_level)
