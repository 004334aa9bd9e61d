"""Bargain campaigns: the seller creates, changes and ends them (permission promotions.manage).

A campaign's floor may not be below the SKU's minimum advertised price (siyu.distribution price
floors) unless an override for exactly that price is on the audit record: the same check that
checkout runs on every line, asked here with the floor as the line's price.

The shop's live campaigns are also kept in the cache (`live_campaigns`), so storefront panels
cost no query; every write here refreshes that entry.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.money import format_yuan
from siyu.core.permissions import Actor, require
from siyu.distribution.prices import basket_price_floor_check
from siyu.orders.pricing import BasketLine
from siyu.shops.models import Shop

from .models import CAMPAIGN_STATES, MAX_HELPS, MAX_HOURS, MIN_HELPS, BargainCampaign

MAX_CAP = 1_000_000
FIELDS = ("name", "floor_price", "helps_needed", "hours", "starts_at", "ends_at", "stock_cap", "buy_at_current")


@dataclass(frozen=True)
class LiveCampaign:
    """What a storefront panel needs of a campaign, kept in the cache."""

    public_id: str
    product_id: int
    sku_id: int
    floor_price: int
    starts_at: float  # timestamps: the entry stays valid as time passes
    ends_at: float

    def running(self, now: datetime) -> bool:
        return self.starts_at <= now.timestamp() < self.ends_at


def _cache_key(shop_id: int) -> str:
    return f"siyu:bargains:live:{int(shop_id)}"


def live_campaigns(*, shop_id: int) -> list[LiveCampaign]:
    """The shop's live campaigns, from the cache only: no query, ever, so the storefront pages of
    a shop without bargains keep their query counts. A missing entry reads as "none"; it is
    written by every campaign change here, by the bargain pages and the console list (which read
    the campaigns anyway) and every five minutes by the worker (`live_campaigns_refresh_all`)."""
    return cache.get(_cache_key(shop_id)) or []


def live_campaigns_refresh(*, shop_id: int) -> list[LiveCampaign]:
    """Read the shop's active campaigns not yet over (one query) and keep them in the cache."""
    rows = BargainCampaign.objects.filter(
        shop_id=shop_id, status=BargainCampaign.Status.ACTIVE, ends_at__gt=timezone.now()
    ).values_list("public_id", "product_id", "sku_id", "floor_price", "starts_at", "ends_at")
    found = [LiveCampaign(p, pr, s, f, a.timestamp(), b.timestamp()) for p, pr, s, f, a, b in rows]
    cache.set(_cache_key(shop_id), found, None)
    return found


def live_campaigns_refresh_all() -> int:
    """Refresh the entry of every shop with an active campaign (a cache that lost it, a restart)."""
    shop_ids = set(
        BargainCampaign.objects.filter(status=BargainCampaign.Status.ACTIVE).values_list("shop_id", flat=True)
    )
    for shop_id in sorted(shop_ids):
        live_campaigns_refresh(shop_id=shop_id)
    return len(shop_ids)


def _forget(shop_id: int) -> None:
    # Now, for this process's next page, and again after the commit (what others then read).
    live_campaigns_refresh(shop_id=shop_id)
    transaction.on_commit(lambda: live_campaigns_refresh(shop_id=shop_id))


def _int(data: dict, name: str, low: int, high: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(detail={name: "not a whole number"})
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(detail={name: "not a whole number"}) from None
    if not low <= number <= high:
        raise InvalidInput(detail={name: f"{low} to {high}"})
    return number


def _when(data: dict, name: str) -> datetime:
    value = data.get(name)
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            value = parse_datetime(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime):
        raise InvalidInput(detail={name: "not a date and time"})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _clean(data: dict) -> dict:
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput(detail={"name": "1 to 60 characters"})
    clean: dict[str, Any] = {
        "name": name,
        "floor_price": _int(data, "floor_price", 0, 10_000_000_000),
        "helps_needed": _int(data, "helps_needed", MIN_HELPS, MAX_HELPS),
        "hours": _int(data, "hours", 1, MAX_HOURS),
        "stock_cap": _int(data, "stock_cap", 1, MAX_CAP),
        "starts_at": _when(data, "starts_at"),
        "ends_at": _when(data, "ends_at"),
        "buy_at_current": bool(data.get("buy_at_current")),
    }
    if clean["ends_at"] <= clean["starts_at"]:
        raise InvalidInput(_("The campaign must end after it starts."), detail={"ends_at": "after starts_at"})
    return clean


def _price_check(*, sku: Sku, clean: dict) -> None:
    """The floor against the SKU: below its price by at least one fen per help, and not below its
    minimum advertised price unless an override for that price is on record."""
    floor, helps = clean["floor_price"], clean["helps_needed"]
    if sku.price - floor < helps:
        raise Conflict(
            _("The floor must be below the price (¥%(price)s) by at least 0.01 per help.")
            % {"price": format_yuan(sku.price)},
            code="bargain_floor_too_high",
            detail={"floor_price": floor, "price": sku.price, "helps_needed": helps},
        )
    try:
        basket_price_floor_check(shop=sku.shop, shopper=None, lines=[BasketLine(sku.pk, floor, 1, {})])
    except Conflict as exc:
        raise InvalidInput(
            _("The floor price is below this item's minimum advertised price. Record a price override first."),
            code="below_price_floor",
            detail=exc.detail,
        ) from None


def _sku(*, shop: Shop, sku_id) -> Sku:
    try:
        pk = int(sku_id)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"sku_id": "not a whole number"}) from None
    sku = Sku.objects.filter(shop=shop, pk=pk).select_related("shop").first()
    if sku is None:
        raise NotFound(detail={"sku_id": pk})
    return sku


def campaign_create(*, actor: Actor, shop: Shop, data: dict) -> BargainCampaign:
    """A new campaign from `data` (FIELDS and sku_id). Permission promotions.manage."""
    require(actor, "promotions.manage", shop_id=shop.pk)
    sku = _sku(shop=shop, sku_id=data.get("sku_id"))
    clean = _clean(data)
    _price_check(sku=sku, clean=clean)
    with transaction.atomic():
        campaign = BargainCampaign.objects.create(shop=shop, sku=sku, product_id=sku.product_id, **clean)
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="bargain_campaign.create",
            target=campaign,
            data={"sku": sku.pk, "floor_price": campaign.floor_price, "helps_needed": campaign.helps_needed},
        )
        _forget(shop.pk)
    return campaign


def campaign_update(*, actor: Actor, campaign: BargainCampaign, data: dict) -> BargainCampaign:
    """Change an active campaign. Bargains already started keep their schedule and floor; the cap
    may not go below the slots already taken."""
    require(actor, "promotions.manage", shop_id=campaign.shop_id)
    clean = _clean({**{f: getattr(campaign, f) for f in FIELDS}, **data})
    sku = Sku.objects.select_related("shop").get(pk=campaign.sku_id)
    _price_check(sku=sku, clean=clean)
    with transaction.atomic():
        locked = BargainCampaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != BargainCampaign.Status.ACTIVE:
            raise Conflict(_("This campaign has ended."), code="bargain_campaign_ended")
        if clean["stock_cap"] < locked.slots_taken:
            raise Conflict(
                _("%(n)s have already been ordered: the cap cannot be lower.") % {"n": locked.slots_taken},
                code="bargain_cap_below_taken",
                detail={"stock_cap": clean["stock_cap"], "taken": locked.slots_taken},
            )
        before = {f: str(getattr(locked, f)) for f in FIELDS}
        for field, value in clean.items():
            setattr(locked, field, value)
        locked.save(update_fields=[*FIELDS, "updated_at"])
        audit_record(
            shop_id=locked.shop_id,
            actor=actor,
            action="bargain_campaign.update",
            target=locked,
            data={"from": before, "to": {f: str(getattr(locked, f)) for f in FIELDS}},
        )
        _forget(locked.shop_id)
    return locked


def campaign_end(*, actor: Actor, campaign: BargainCampaign) -> BargainCampaign:
    """End a campaign now: no new bargains, helps or purchases through it. Orders already placed
    stand."""
    require(actor, "promotions.manage", shop_id=campaign.shop_id)
    with transaction.atomic():
        moved = CAMPAIGN_STATES.claim(
            BargainCampaign.objects.filter(pk=campaign.pk),
            current=BargainCampaign.Status.ACTIVE,
            to=BargainCampaign.Status.ENDED,
            updated_at=timezone.now(),
        )
        if moved:
            audit_record(
                shop_id=campaign.shop_id,
                actor=actor,
                action="bargain_campaign.end",
                target=campaign,
                data={"from": "active", "to": "ended"},
            )
            _forget(campaign.shop_id)
    campaign.refresh_from_db()
    return campaign
