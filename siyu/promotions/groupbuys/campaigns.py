"""Group-buy campaigns: the seller's side (create, change, stop), and the per-shop flag that lets
checkout, order events and storefront panels skip every query in a shop that has never run one."""

from datetime import datetime
from typing import NoReturn

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Product, Sku
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .models import GroupBuy, GroupBuyPrice

FLAG_SECONDS = 600
MIN_YEAR, MAX_YEAR = 2000, 2100
EDITABLE = ("name", "group_size", "hours", "starts_at", "ends_at", "per_customer_limit", "auto_fill")


def _flag_key(shop_id: int) -> str:
    return f"groupbuys:any:{shop_id}"


def shop_runs_group_buys(*, shop_id: int) -> bool:
    """Whether the shop has ever had a campaign (its groups outlive it), cached: a shop without one
    pays no query in checkout, order events or panels."""
    found = cache.get(_flag_key(shop_id))
    if found is None:
        found = GroupBuy.objects.filter(shop_id=shop_id).exists()
        cache.set(_flag_key(shop_id), found, FLAG_SECONDS)
    return bool(found)


def _flag_forget(shop_id: int) -> None:
    transaction.on_commit(lambda: cache.delete(_flag_key(shop_id)))
    cache.delete(_flag_key(shop_id))


def _int(data: dict, name: str, low: int, high: int, default=None) -> int:
    value = data.get(name, default)
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(detail={name: "not a whole number"}) from None
    if not low <= value <= high:
        raise InvalidInput(detail={name: f"{low} to {high}"})
    return value


def _when(data: dict, name: str) -> datetime:
    value = data.get(name)
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise InvalidInput(detail={name: "a date and time"})
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        # Well-formed, but a time no campaign runs at (and one a time zone could push past year 1
        # or 9999): a setting to change, like the order of the two dates.
        _clash({name: f"between the years {MIN_YEAR} and {MAX_YEAR}"})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _clash(detail: dict) -> NoReturn:
    """Well-formed settings that do not fit together or with the shop's data (an end not after the
    start, a group price not below the SKU's, a SKU named twice): 409 settings_conflict, as the
    other promotions answer, so a client can tell "fix the format" (400) from "change the values"."""
    raise Conflict(_("These settings do not fit together."), code="settings_conflict", detail=detail)


def _clean(data: dict, *, current: GroupBuy | None = None) -> dict:
    """The editable fields, checked. Missing ones keep `current`'s values when updating."""
    base = {f: getattr(current, f) for f in EDITABLE} if current else {}
    data = {**base, **{k: v for k, v in data.items() if v is not None}}
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput(
            _("Give the group buy a name (at most 60 characters)."), detail={"name": "1 to 60 characters"}
        )
    clean: dict[str, object] = {
        "name": name,
        "group_size": _int(data, "group_size", 2, 50),
        "hours": _int(data, "hours", 1, 720, 24),
        "per_customer_limit": _int(data, "per_customer_limit", 1, 99, 1),
        "auto_fill": str(data.get("auto_fill", False)).lower() in ("1", "true", "on", "yes"),
    }
    clean["starts_at"], clean["ends_at"] = starts, ends = _when(data, "starts_at"), _when(data, "ends_at")
    if ends <= starts:
        _clash({"ends_at": "after starts_at"})
    return clean


def _price_pairs(prices) -> list[tuple[object, object]]:
    """(sku id, fen) pairs from a list of {"sku_id", "group_price"} (the API) or a map {sku id: fen}."""
    if isinstance(prices, dict):
        return list(prices.items())
    if isinstance(prices, list | tuple):
        return [(p.get("sku_id"), p.get("group_price")) if isinstance(p, dict) else (p, None) for p in prices]
    return []


def _prices(*, shop: Shop, product: Product, prices) -> list[tuple[Sku, int]]:
    """[(sku, group price)]: the product's own SKUs (404 for another's), each named once and priced
    below its own price (409 otherwise)."""
    pairs = _price_pairs(prices)
    if not pairs:
        raise InvalidInput(_("Set a group price for at least one SKU."), detail={"prices": "at least one SKU"})
    try:
        wanted = [(int(str(sku_id)), int(str(price))) for sku_id, price in pairs]
    except (TypeError, ValueError):
        raise InvalidInput(detail={"prices": "SKU id and whole fen"}) from None
    skus = {s.pk: s for s in Sku.objects.filter(shop=shop, product=product)}
    missing = [sku_id for sku_id, _price in wanted if sku_id not in skus]
    if missing:
        raise NotFound(detail={"prices": f"SKU {missing[0]} is not this product's"})
    if len({sku_id for sku_id, _price in wanted}) != len(wanted):
        _clash({"prices": "each SKU once"})
    dear = [sku_id for sku_id, price in wanted if not 1 <= price < skus[sku_id].price]
    if dear:
        sku = skus[dear[0]]
        raise Conflict(
            _("A group price must be above zero and below the SKU's price."),
            code="settings_conflict",
            detail={"prices": f"SKU {sku.pk}: 1 to {sku.price - 1}"},
        )
    return [(skus[sku_id], price) for sku_id, price in wanted]


def groupbuy_create(*, actor: Actor, shop: Shop, data: dict) -> GroupBuy:
    """A new campaign on one product. `data`: name, product (public id), prices (a list of
    {"sku_id", "group_price"} or a map {sku id: fen}), group_size (2–50), hours (1–720), starts_at,
    ends_at, per_customer_limit, auto_fill. Malformed values: 400; an unknown product or SKU: 404;
    values that do not fit together (see `_clash`): 409 settings_conflict."""
    require(actor, "promotions.manage", shop_id=shop.pk)
    clean = _clean(data)
    product = Product.objects.filter(shop=shop, public_id=str(data.get("product") or "")[:20]).first()
    if product is None:
        raise NotFound(_("Choose a product."), detail={"product": "not found"})
    prices = _prices(shop=shop, product=product, prices=data.get("prices"))
    with transaction.atomic():
        campaign = GroupBuy.objects.create(shop=shop, public_id=public_id(16), product=product, **clean)
        GroupBuyPrice.objects.bulk_create(
            [GroupBuyPrice(campaign=campaign, sku=sku, group_price=price) for sku, price in prices]
        )
        audit_record(
            shop_id=shop.pk, actor=actor, action="group_buy.create", target=campaign, data={"name": clean["name"]}
        )
        _flag_forget(shop.pk)
    return campaign


def campaign_of_shop(*, shop: Shop, public_id: str) -> GroupBuy:
    campaign = GroupBuy.objects.filter(shop=shop, public_id=str(public_id)[:20]).select_related("product").first()
    if campaign is None:
        raise NotFound(detail={"group_buy": str(public_id)[:20]})
    return campaign


def groupbuy_update(*, actor: Actor, shop: Shop, public_id: str, data: dict) -> GroupBuy:
    """Change a campaign. Groups already open keep the size and deadline they opened with."""
    require(actor, "promotions.manage", shop_id=shop.pk)
    campaign = campaign_of_shop(shop=shop, public_id=public_id)
    clean = _clean(data, current=campaign)
    prices = _prices(shop=shop, product=campaign.product, prices=data["prices"]) if data.get("prices") else None
    with transaction.atomic():
        GroupBuy.objects.filter(pk=campaign.pk).update(**clean)
        if prices is not None:
            GroupBuyPrice.objects.filter(campaign=campaign).exclude(sku_id__in=[s.pk for s, _p in prices]).delete()
            for sku, price in prices:
                try:
                    with transaction.atomic():
                        GroupBuyPrice.objects.update_or_create(
                            campaign=campaign, sku=sku, defaults={"group_price": price}
                        )
                except IntegrityError:
                    raise Conflict(code="busy") from None
        audit_record(
            shop_id=shop.pk, actor=actor, action="group_buy.update", target=campaign, data={"fields": sorted(clean)}
        )
    campaign.refresh_from_db()
    return campaign


def groupbuy_stop(*, actor: Actor, shop: Shop, public_id: str) -> GroupBuy:
    """Stop a campaign: no new groups and no new joiners; open groups run to their deadline."""
    require(actor, "promotions.manage", shop_id=shop.pk)
    campaign = campaign_of_shop(shop=shop, public_id=public_id)
    with transaction.atomic():
        GroupBuy.objects.filter(pk=campaign.pk).update(is_active=False)
        audit_record(shop_id=shop.pk, actor=actor, action="group_buy.stop", target=campaign)
    campaign.is_active = False
    return campaign
