"""Bargains follow their orders (subscriptions register when this module is imported).

In the order's own transaction: placing an order through a bargain marks it ordered (a refusal
rolls the order back); cancelling it makes the bargain buyable again, once. Through the outbox:
payment marks it bought. A plain order costs the placing subscriber nothing (the payload names
its promotions); the cancel and payment subscribers are one indexed UPDATE each.
"""

from siyu.core.events import event_order_id, subscribe

from . import pricing  # noqa: F401 - registers the line pricer
from .pricing import KIND
from .services import bargain_order_cancelled, bargain_order_paid, bargain_order_take


@subscribe("order.placed", in_transaction=True)
def take_on_place(event) -> None:
    for name in event.payload.get("promotions") or []:
        kind, _sep, ref = str(name).partition(":")
        if kind == KIND:
            bargain_order_take(
                shop_id=event.shop_id,
                shopper_id=int(event.payload["shopper"]),
                campaign_ref=ref,
                order_id=event_order_id(event),
            )


@subscribe("order.cancelled", in_transaction=True)
def reopen_on_cancel(event) -> None:
    bargain_order_cancelled(order_id=event_order_id(event))


@subscribe("order.paid")
def bought_on_paid(event) -> None:
    bargain_order_paid(order_id=event_order_id(event))
