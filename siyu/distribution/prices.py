"""Minimum advertised prices (价格底线): the brand's floor for each SKU.

Setting a SKU's price below its floor is refused unless the person gives an explicit reason, and
then the override is written to the audit log. Checkout refuses to sell a line below its floor
unless an override for exactly that price is on record: the check is a checkout basket check
(registered in handlers.py), run on the quoted prices before the order's transaction, with the
floors read in the checkout's own SKU query, so a refusal places and reserves nothing.
"""

from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.models import AuditEntry
from siyu.core.money import format_yuan, parse_yuan
from siyu.core.permissions import Actor, actor_user, require
from siyu.orders.pricing import BasketLine

from .models import PriceFloor

OVERRIDE_ACTION = "price_floor.override"


def _fen(value, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise InvalidInput(detail={field: "out of range"})
        return value
    return parse_yuan(value, field=field)


def price_floor_set(*, actor: Actor, sku: Sku, min_price) -> PriceFloor | None:
    """Set a SKU's floor (fen or a yuan string; 0 removes it). Permission catalog.manage."""
    require(actor, "catalog.manage", shop_id=sku.shop_id)
    min_price = _fen(min_price, "min_price")
    with transaction.atomic():
        before = PriceFloor.objects.filter(sku=sku).values_list("min_price", flat=True).first()
        if min_price == 0:
            PriceFloor.objects.filter(sku=sku).delete()
            floor = None
        else:
            floor, _created = PriceFloor.objects.update_or_create(
                sku=sku, defaults={"shop_id": sku.shop_id, "min_price": min_price}
            )
        audit_record(
            shop_id=sku.shop_id,
            actor=actor_user(actor),
            action="price_floor.set",
            target=sku,
            data={"from": before, "to": min_price or None, "price": sku.price},
        )
    return floor


def price_floor_of(*, sku: Sku) -> int | None:
    return PriceFloor.objects.filter(sku=sku).values_list("min_price", flat=True).first()


def sku_price_check(*, sku: Sku, price, override_reason: str = "", actor: Actor | None = None) -> int:
    """Call before saving a new price for `sku`. At or above the floor (or no floor): fine.
    Below it: refused (Conflict below_price_floor) unless `override_reason` is given by someone
    with catalog.manage, in which case the override is written to the audit log.
    Returns the price in fen."""
    price = _fen(price, "price")
    floor = price_floor_of(sku=sku)
    if floor is None or price >= floor:
        return price
    reason = str(override_reason or "").strip()
    if not reason:
        raise Conflict(
            _("The price is below the minimum advertised price of ¥%(floor)s.") % {"floor": format_yuan(floor)},
            code="below_price_floor",
            detail={"sku": sku.pk, "min_price": floor, "price": price},
        )
    require(actor, "catalog.manage", shop_id=sku.shop_id)
    audit_record(
        shop_id=sku.shop_id,
        actor=actor_user(actor),
        action=OVERRIDE_ACTION,
        target=sku,
        data={"price": price, "min_price": floor, "reason": reason[:200]},
    )
    return price


def _override_on_record(sku_id: int, price: int) -> bool:
    return AuditEntry.objects.filter(
        action=OVERRIDE_ACTION, target_type="sku", target_id=str(sku_id), data__price=price
    ).exists()


def floor_read(*, shop, shopper, **_: Any) -> Subquery:
    """The SKU's floor, read by checkout with the basket's SKUs (no query of its own)."""
    return Subquery(PriceFloor.objects.filter(sku_id=OuterRef("pk")).values("min_price")[:1])


def basket_price_floor_check(*, shop, shopper, lines: list[BasketLine]) -> None:
    """Refuse (Conflict) a basket with a line priced below its SKU's floor and no override for
    that price on record. Registered as a checkout basket check reading `floor_read`: no query
    when nothing is below a floor (one per line that is)."""
    for line in lines:
        floor = line.read["floor"] if "floor" in line.read else _floor_of(line.sku_id)
        if floor is not None and line.unit_price < floor and not _override_on_record(line.sku_id, line.unit_price):
            raise Conflict(
                _("This item cannot be sold below its minimum price."),
                code="below_price_floor",
                detail={"sku": line.sku_id, "min_price": floor, "price": line.unit_price},
            )


def _floor_of(sku_id: int) -> int | None:
    return PriceFloor.objects.filter(sku_id=sku_id).values_list("min_price", flat=True).first()
