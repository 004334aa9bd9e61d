"""Reactions to order events (subscriptions are registered when this module is imported).

A completed order may be a referred customer's first: its rewards are written, pending, through
the outbox (idempotent). A refund forfeits them inside the refund's own transaction, so the money
going back and the reward being taken back commit or fail together.
"""

from siyu.core.events import subscribe

from .rewards import referral_rewards_create, referral_rewards_reverse


def _order_id(event) -> int | None:
    order_id = event.payload.get("order")
    return int(order_id) if order_id is not None else None


@subscribe("order.completed")
def rewards_on_complete(event) -> None:
    order_id = _order_id(event)
    if order_id is not None:
        referral_rewards_create(order_id=order_id)


@subscribe("order.refunded", in_transaction=True)
def rewards_on_refund(event) -> None:
    order_id = _order_id(event)
    if order_id is not None:
        referral_rewards_reverse(order_id=order_id)
