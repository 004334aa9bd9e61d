"""Reactions to order events (subscriptions are registered when this module is imported).

In the order's own transaction: a placed order is attributed to the buyer's group touch, and the
leader promoter's share code written on an order that has none, before anyone can pay it — so the
distribution domain's accrual on `order.paid` (and its reversal on refund) sees it like any other
referred order and pays exactly one commission.
"""

from siyu.core.events import event_order_id, subscribe

from .attribution import group_order_attribute


@subscribe("order.placed", in_transaction=True)
def attribute_on_place(event) -> None:
    shopper_id = event.payload.get("shopper")
    if shopper_id is None or event.shop_id is None:
        return
    group_order_attribute(shop_id=event.shop_id, order_id=event_order_id(event), shopper_id=int(shopper_id))
