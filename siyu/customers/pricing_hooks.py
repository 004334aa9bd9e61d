"""Membership and points wired into checkout and the order events (imported by handlers.py).

In the order's own transaction (they must commit or fail with it): points redeemed when an order
is placed (refusal rolls the order back), given back when it is cancelled, and reversed when it is
refunded. Through the outbox, after the figures are refreshed: points earned on completion and
the customer's level recomputed whenever their spend may have changed.
"""

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Subquery
from django.db.models.functions import JSONObject

from siyu.accounts.models import Shopper
from siyu.core.events import event_order_id, subscribe
from siyu.orders.models import Order
from siyu.orders.pricing import Adjustment, PricingLine, register_adjuster
from siyu.shops.models import Shop

from .membership import customer_level_refresh, levels_reached, member_adjustments, member_level_of
from .models import MemberLevel
from .points import points_earn, points_redeem, points_restore, points_reverse
from .stats import customer_for_shopper

# The line price kind of a member price (siyu.promotions.discounts), named here without importing it.
MEMBER_PRICE = "member_price"
_LEVEL_FIELDS = ("id", "name", "min_spend", "discount_bp", "free_shipping")


def level_read(*, shop: Shop, shopper: Shopper | None, **_: Any) -> Subquery | None:
    """The shopper's level as one JSON value, read by checkout with the basket's SKUs."""
    if shopper is None:
        return None
    level = JSONObject(**{name: name for name in _LEVEL_FIELDS})
    return Subquery(levels_reached(shop=shop, shopper=shopper).values(as_json=level)[:1])


def _level_from(value: Any, shop: Shop) -> MemberLevel | None:
    if value is None:  # no level reached
        return None
    fields = value if isinstance(value, Mapping) else json.loads(value)  # SQLite hands over the text
    # SQLite's json_object gives the boolean as 0/1.
    return MemberLevel(
        shop=shop, **{**{name: fields[name] for name in _LEVEL_FIELDS}, "free_shipping": bool(fields["free_shipping"])}
    )


def member_checkout_adjustments(
    *,
    shop: Shop,
    shopper: Shopper,
    subtotal: int,
    shipping_fee: int,
    options: dict,
    read: Mapping[str, Any],
    prior: list[Adjustment],
    lines: list[PricingLine] | None = None,
    **_: Any,
) -> list[Adjustment]:
    """The checkout adjuster: member benefits and points, with the level checkout read for us (or,
    when there was no SKU row to carry it, read here). They apply to what is left after the
    promotions before them (threshold discounts, coupons).

    A line sold at a member price (会员价, siyu.promotions.discounts) already carries the member's
    benefit: the level's percentage leaves it out (its share of what is left), as Youzan does."""
    level = _level_from(read["level"], shop) if "level" in read else member_level_of(shop=shop, shopper=shopper)
    left = max(0, subtotal - sum(a.amount for a in prior))
    member_priced = sum(ln.unit_price * ln.quantity for ln in lines or () if ln.promotion == MEMBER_PRICE)
    discountable = left - left * member_priced // subtotal if member_priced and subtotal else None
    return member_adjustments(
        shop=shop, shopper=shopper, level=level, subtotal=left, options=options, discountable=discountable
    )


register_adjuster(member_checkout_adjustments, reads={"level": level_read})


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
