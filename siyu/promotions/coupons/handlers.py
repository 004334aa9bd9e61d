"""Coupon reactions (registered on import by the app's ready()): checkout's adjuster and the order
events that use and return coupons (checkout.py), and the rules that give coupons."""

from siyu.core.events import event_order_id, subscribe

from . import checkout  # noqa: F401 - the adjuster and the order subscriptions register on import
from .grants import grants_for_first_order, grants_for_level_up, grants_for_referral


@subscribe("order.paid")
def first_order_coupons(event) -> None:
    grants_for_first_order(order_id=event_order_id(event))


@subscribe("customer.level_changed")
def level_up_coupons(event) -> None:
    if event.payload.get("up"):
        grants_for_level_up(
            shop_id=event.shop_id, shopper_id=event.payload.get("shopper"), level_id=event.payload.get("to")
        )


@subscribe("referral.rewarded")
def referral_coupons(event) -> None:
    grants_for_referral(
        shop_id=event.shop_id,
        shopper_id=event.payload.get("shopper"),
        reward_id=int(event.payload.get("reward") or 0),
        role=str(event.payload.get("role") or ""),
    )
