"""限时折扣: limited-time prices on SKUs, and the per-customer limit that goes with them.

The price is a line pricer's offer (kind "limited_time", not exclusive: the lowest offer wins). A
line over the shopper's remaining allowance is not offered the price (it sells at the SKU's own).
The allowance is taken when the order is placed, in the order's transaction, with one conditional
UPDATE (`bought + n <= limit`), so concurrent orders cannot pass it; a refusal rolls the order back.
A cancelled order gives its units back once: its `LimitedTimeUse` row is deleted, and only the
deleting transaction gives back.

Locks: the shopper's allowance row (conditional UPDATE) inside the order's transaction, after the
order row and before the stock rows, when placing and when cancelling alike (order_cancel records
its event before releasing the stock). Only the same shopper's concurrent orders meet on that row.
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, NotFound
from siyu.core.money import apply_rate
from siyu.core.permissions import Actor, require
from siyu.orders.models import OrderLine
from siyu.orders.pricing import LinePrice, PricingLine
from siyu.shops.models import Shop

from .flags import discount_flags_forget
from .models import LimitedTimeBuyer, LimitedTimeDiscount, LimitedTimeItem, LimitedTimeUse, Status
from .rules import (
    LIMITED_STATES,
    MANAGE,
    clean_fen,
    clean_name,
    clean_whole,
    clean_window,
    floor_check,
    live,
    refuse,
)

KIND = "limited_time"
MAX_ITEMS = 200


def item_price(item: LimitedTimeItem, sku_price: int) -> int:
    """The SKU's price in this discount: the fixed price, or the SKU's price less `off_bp` of it
    (the saving rounded down, like every share of money)."""
    if item.price is not None:
        return item.price
    return sku_price - apply_rate(sku_price, item.off_bp or 0)


# --- saving ------------------------------------------------------------------------------


def _clean_items(*, shop: Shop, raw, errors: dict, clashes: dict) -> list[tuple[Sku, int | None, int | None]]:
    if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_ITEMS:
        errors["items"] = f"1 to {MAX_ITEMS} SKUs"
        return []
    wanted: dict[int, tuple[int | None, int | None]] = {}
    for n, item in enumerate(raw):
        field = f"items.{n}"
        if not isinstance(item, dict):
            errors[field] = "a SKU with a price or a percentage off"
            continue
        try:
            sku_id = int(str(item.get("sku")))
        except (TypeError, ValueError):
            errors[f"{field}.sku"] = "a SKU id"
            continue
        has_price = item.get("price") not in (None, "")
        has_off = item.get("off_bp") not in (None, "")
        if has_price == has_off:
            errors[field] = "either a price or a percentage off"
            continue
        price = clean_fen(item["price"], field=f"{field}.price", errors=errors) if has_price else None
        off = clean_whole(item["off_bp"], field=f"{field}.off_bp", errors=errors, low=1, high=9999) if has_off else None
        if sku_id in wanted:
            clashes[f"{field}.sku"] = "listed twice"
        wanted[sku_id] = (price, off)
    if errors:
        return []
    skus = {s.pk: s for s in Sku.objects.filter(shop=shop, pk__in=wanted)}
    if set(wanted) - set(skus):
        raise NotFound(detail={"items": "not found", "skus": sorted(set(wanted) - set(skus))})
    found = []
    for n, (sku_id, (price, off)) in enumerate(wanted.items()):
        sku = skus[sku_id]
        if price is not None and price >= sku.price:
            clashes[f"items.{n}.price"] = "below the item's price"
        found.append((sku, price, off))
    return found


def _overlapping(*, shop: Shop, sku_ids: list[int], starts: datetime, ends: datetime, exclude: int | None) -> list[int]:
    qs = LimitedTimeItem.objects.filter(
        shop=shop,
        sku_id__in=sku_ids,
        discount__status=Status.ACTIVE,
        discount__starts_at__lt=ends,
        discount__ends_at__gt=starts,
    )
    if exclude is not None:
        qs = qs.exclude(discount_id=exclude)
    return sorted(set(qs.values_list("sku_id", flat=True)))


def limited_save(*, actor: Actor, shop: Shop, data: dict, discount_id: str | None = None) -> LimitedTimeDiscount:
    """Create (or with `discount_id`, change) a limited-time discount. Permission promotions.manage.

    Data: name, starts_at, ends_at, per_customer_limit (0: none), items [{sku: id, price: fen or
    yuan text} or {sku: id, off_bp: basis points off}], override_reason (needed for a price below a
    SKU's minimum advertised price, and audited). A SKU can be in one discount at a time."""
    require(actor, MANAGE, shop_id=shop.pk)
    errors: dict[str, str] = {}
    clashes: dict[str, str] = {}
    name = clean_name(data.get("name"), errors)
    starts, ends = clean_window(data, errors, clashes)
    limit = clean_whole(data.get("per_customer_limit") or 0, field="per_customer_limit", errors=errors, low=0, high=999)
    items = _clean_items(shop=shop, raw=data.get("items"), errors=errors, clashes=clashes)
    refuse(errors, clashes)
    assert starts is not None and ends is not None  # refuse() raised otherwise
    override = str(data.get("override_reason") or "").strip()
    with transaction.atomic():
        if discount_id is None:
            discount = LimitedTimeDiscount.objects.create(
                shop=shop, name=name, starts_at=starts, ends_at=ends, per_customer_limit=limit
            )
        else:
            discount = _locked(shop=shop, discount_id=discount_id)
            if discount.status == Status.ENDED:
                LIMITED_STATES.check(discount.status, Status.ACTIVE)
            discount.name, discount.starts_at, discount.ends_at = name, starts, ends
            discount.per_customer_limit = limit
            discount.save()
        clash = _overlapping(
            shop=shop, sku_ids=[s.pk for s, _p, _o in items], starts=starts, ends=ends, exclude=discount.pk
        )
        if clash:
            refuse({}, {"items": f"SKUs already in another limited-time discount at that time: {clash}"})
        for n, (sku, price, off) in enumerate(items):
            final = price if price is not None else sku.price - apply_rate(sku.price, off or 0)
            floor_check(sku=sku, price=final, override_reason=override, actor=actor, field=f"items.{n}.price")
        LimitedTimeItem.objects.filter(discount=discount).delete()
        LimitedTimeItem.objects.bulk_create(
            [
                LimitedTimeItem(
                    shop=shop, discount=discount, sku=sku, product_id=sku.product_id, price=price, off_bp=off
                )
                for sku, price, off in items
            ]
        )
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="limited_time_discount.save",
            target=discount,
            data={"name": name, "items": len(items), "limit": limit, "created": discount_id is None},
        )
        discount_flags_forget(shop_id=shop.pk)
    return discount


def _locked(*, shop: Shop, discount_id: str) -> LimitedTimeDiscount:
    discount = LimitedTimeDiscount.objects.select_for_update().filter(shop=shop, public_id=str(discount_id)).first()
    if discount is None:
        raise NotFound(detail={"discount": str(discount_id)})
    return discount


def limited_end(*, actor: Actor, shop: Shop, discount_id: str) -> LimitedTimeDiscount:
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        discount = _locked(shop=shop, discount_id=discount_id)
        LIMITED_STATES.move(discount, to=Status.ENDED, actor=actor, why="ended by staff")
        discount_flags_forget(shop_id=shop.pk)
    return discount


def limiteds_of(*, shop: Shop):
    return LimitedTimeDiscount.objects.filter(shop=shop).order_by("-id")


def limited_of(*, shop: Shop, discount_id: str) -> LimitedTimeDiscount:
    discount = (
        LimitedTimeDiscount.objects.filter(shop=shop, public_id=str(discount_id))
        .prefetch_related("items__sku__product")
        .first()
    )
    if discount is None:
        raise NotFound(detail={"discount": str(discount_id)})
    return discount


def live_items(*, shop: Shop, sku_ids, now: datetime | None = None) -> list[LimitedTimeItem]:
    qs = LimitedTimeItem.objects.filter(shop=shop, sku_id__in=list(sku_ids)).select_related("discount")
    return list(live(qs, now or timezone.now(), "discount__").order_by("sku_id", "id"))


# --- checkout ----------------------------------------------------------------------------


def limited_offers(*, shop: Shop, shopper, lines: list[PricingLine]) -> dict[int, LinePrice]:
    """The limited-time price of each line that has one and fits the shopper's allowance. One
    query, and one more when a discount has a per-customer limit and a shopper is signed in."""
    items = live_items(shop=shop, sku_ids=[ln.sku_id for ln in lines])
    if not items:
        return {}
    limited = {i.discount_id for i in items if i.discount.per_customer_limit}
    held: dict[int, int] = {}
    if limited and shopper is not None:
        held = dict(
            LimitedTimeBuyer.objects.filter(discount_id__in=limited, shopper=shopper).values_list(
                "discount_id", "bought"
            )
        )
    by_sku = {ln.sku_id: ln for ln in lines}
    in_basket: defaultdict[int, int] = defaultdict(int)
    offers: dict[int, LinePrice] = {}
    for item in items:
        line, discount = by_sku[item.sku_id], item.discount
        if discount.per_customer_limit:
            if held.get(discount.pk, 0) + in_basket[discount.pk] + line.quantity > discount.per_customer_limit:
                continue
            in_basket[discount.pk] += line.quantity
        price = item_price(item, line.list_price)
        if item.sku_id not in offers or price < offers[item.sku_id].unit_price:
            offers[item.sku_id] = LinePrice(unit_price=price, kind=KIND, label=discount.name, ref=discount.public_id)
    return offers


def limits_take(*, order_id: int, shop_id: int, shopper_id: int, refs: list[str]) -> None:
    """Take the order's limited-time units from the shopper's allowances (in the order's
    transaction); Conflict when one would pass its limit, which rolls the order back."""
    discounts = list(
        LimitedTimeDiscount.objects.filter(shop_id=shop_id, public_id__in=refs, per_customer_limit__gt=0).order_by("pk")
    )
    if not discounts:
        return
    wanted: defaultdict[str, int] = defaultdict(int)
    for promotion, quantity in OrderLine.objects.filter(
        order_id=order_id, promotion__in=[f"{KIND}:{d.public_id}" for d in discounts]
    ).values_list("promotion", "quantity"):
        wanted[promotion.split(":", 1)[1]] += quantity
    for discount in discounts:
        n = wanted.get(discount.public_id, 0)
        if not n:
            continue
        LimitedTimeBuyer.objects.bulk_create(
            [LimitedTimeBuyer(shop_id=shop_id, discount=discount, shopper_id=shopper_id, bought=0)],
            ignore_conflicts=True,
        )
        taken = LimitedTimeBuyer.objects.filter(
            discount=discount, shopper_id=shopper_id, bought__lte=discount.per_customer_limit - n
        ).update(bought=F("bought") + n)
        if not taken:
            raise Conflict(
                _("You have reached the limit of %(n)s at this price.") % {"n": discount.per_customer_limit},
                code="promotion_limit_reached",
                detail={"promotion": f"{KIND}:{discount.public_id}", "limit": discount.per_customer_limit},
            )
        LimitedTimeUse.objects.create(
            shop_id=shop_id, order_id=order_id, discount=discount, shopper_id=shopper_id, quantity=n
        )


def limits_give_back(*, order_id: int) -> int:
    """Give a cancelled order's units back to the allowances, exactly once. Units given back."""
    given = 0
    for use in LimitedTimeUse.objects.filter(order_id=order_id).order_by("pk"):
        deleted, _rows = LimitedTimeUse.objects.filter(pk=use.pk).delete()
        if deleted:
            LimitedTimeBuyer.objects.filter(
                discount_id=use.discount_id, shopper_id=use.shopper_id, bought__gte=use.quantity
            ).update(bought=F("bought") - use.quantity)
            given += use.quantity
    return given
