"""Reactions to order events (subscriptions are registered when this module is imported).

A completed order may be a referred customer's first: its rewards are written, pending, through
the outbox (idempotent). A refund forfeits them inside the refund's own transaction, so the money
going back and the reward being taken back commit or fail together.
"""

from siyu.core.events import event_order_id, subscribe

from .rewards import referral_rewards_create, referral_rewards_reverse


@subscribe("order.completed")
def rewards_on_complete(event) -> None:
    referral_rewards_create(order_id=event_order_id(event))


@subscribe("order.refunded", in_transaction=True)
def rewards_on_refund(event) -> None:
    referral_rewards_reverse(order_id=event_order_id(event))
