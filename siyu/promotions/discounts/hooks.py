"""The discounts wired into checkout and the order events (imported by the app's ready()).

Checkout asks each hook whether its shop runs anything through `reads`: an EXISTS annotated on the
basket's SKU query. A shop running no discount therefore pays no query at checkout, and a shop that
just started one is never priced from a stale cache.
"""

import json
from collections.abc import Mapping
from typing import Any

from django.db.models import Exists

from siyu.core.events import event_order_id, subscribe
from siyu.customers.membership import member_level_of
from siyu.customers.pricing_hooks import level_read
from siyu.orders.pricing import Adjustment, LinePrice, PricingLine, register_adjuster, register_line_pricer

from . import limited, member_prices, thresholds
from .models import LimitedTimeItem, MemberPrice, ThresholdActivity
from .rules import live


def _threshold_live(*, shop, shopper, now):
    return Exists(live(ThresholdActivity.objects.filter(shop=shop), now))


def _limited_live(*, shop, shopper, now):
    return Exists(live(LimitedTimeItem.objects.filter(shop=shop), now, "discount__"))


def _member_any(*, shop, shopper, **_: Any):
    return None if shopper is None else Exists(MemberPrice.objects.filter(shop=shop))


def _live(read: Mapping[str, Any], name: str = "live") -> bool:
    """What checkout read (True when it could not read for us: then the hook looks itself)."""
    return bool(read[name]) if name in read else True


def limited_time_pricer(*, shop, shopper, lines: list[PricingLine], options, read, **_: Any) -> dict[int, LinePrice]:
    if not _live(read):
        return {}
    return limited.limited_offers(shop=shop, shopper=shopper, lines=lines)


def _level_id(value: Any) -> int | None:
    if value is None:
        return None
    fields = value if isinstance(value, Mapping) else json.loads(value)  # SQLite hands over the text
    return int(fields["id"])


def member_price_pricer(*, shop, shopper, lines: list[PricingLine], options, read, **_: Any) -> dict[int, LinePrice]:
    if shopper is None or not _live(read, "any"):
        return {}
    if "level" in read:
        level_id = _level_id(read["level"])
    else:
        level = member_level_of(shop=shop, shopper=shopper)
        level_id = level.pk if level else None
    if level_id is None:
        return {}
    return member_prices.member_offers(shop=shop, level_id=level_id, lines=lines)


def threshold_adjuster(*, shop, shopper, lines: list[PricingLine], read, **_: Any) -> list[Adjustment]:
    if not lines or not _live(read):
        return []
    found = thresholds.threshold_best(thresholds.thresholds_live(shop=shop), lines)
    return [thresholds.threshold_adjustment(found)] if found else []


register_line_pricer(limited_time_pricer, reads={"live": _limited_live})
register_line_pricer(member_price_pricer, reads={"level": level_read, "any": _member_any})
register_adjuster(threshold_adjuster, reads={"live": _threshold_live}, priority=10)


def _refs(event, kind: str) -> list[str]:
    prefix = f"{kind}:"
    return [p[len(prefix) :] for p in event.payload.get("promotions") or () if str(p).startswith(prefix)]


@subscribe("order.placed", in_transaction=True)
def limits_take_on_place(event) -> None:
    refs = _refs(event, limited.KIND)
    if refs:  # plain orders: no query
        limited.limits_take(
            order_id=event_order_id(event), shop_id=event.shop_id, shopper_id=event.payload["shopper"], refs=refs
        )


@subscribe("order.cancelled", in_transaction=True)
def limits_give_back_on_cancel(event) -> None:
    limited.limits_give_back(order_id=event_order_id(event))
