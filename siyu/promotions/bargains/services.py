"""Shoppers' side of bargains: start one, help a friend's, and follow the starter's order.

Locks: a help takes only its bargain's row (rank REACTION: nothing else is locked there). The
order's reactions change bargain and campaign rows with conditional UPDATEs inside the order's
transaction: when an order is placed, the bargain then the campaign (before checkout's stock
decrement); when it is cancelled, only the bargain (after the order and its stock). A cancelled
order never touches the campaign row, so a placing and a cancelling checkout can never wait on
each other's rows in opposite orders: a bargain keeps the campaign slot it took when it was first
ordered, and gives it back only once its deadline has passed unbought (`slots_release_expired`).
"""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Address, Shopper
from siyu.catalog.models import ProductStatus
from siyu.core import locks
from siyu.core.crypto import lookup_hash
from siyu.core.errors import Conflict, NotFound, RateLimited
from siyu.shops.models import Shop

from .models import BARGAIN_STATES, Bargain, BargainCampaign, BargainHelp
from .schedule import cuts_draw

S = Bargain.Status


def _per_hour(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def device_key(device: str) -> str:
    """A keyed hash of a device id (the storefront's visitor id), in the distribution flags' form."""
    return lookup_hash(f"device:{device}") if device else ""


def network_key(ip: str | None) -> str:
    """A keyed hash of the caller's network: an IPv4 address, or an IPv6 /64 (one household)."""
    try:
        address = ipaddress.ip_address(str(ip or "").strip())
    except ValueError:
        return ""
    if address.version == 6:
        address = ipaddress.ip_network(f"{address}/64", strict=False).network_address
    return lookup_hash(f"network:{address}")


# --- start ---------------------------------------------------------------------------------


def _campaign_running(shop: Shop, campaign_id: str) -> BargainCampaign:
    now = timezone.now()
    campaign = (
        BargainCampaign.objects.filter(shop=shop, public_id=str(campaign_id or "")[:16])
        .select_related("sku", "product")
        .first()
    )
    if campaign is None:
        raise NotFound(detail={"campaign": "not found"})
    if campaign.status != BargainCampaign.Status.ACTIVE or not campaign.starts_at <= now < campaign.ends_at:
        raise Conflict(_("This bargain campaign is not running."), code="bargain_campaign_closed")
    if not campaign.sku.is_active or campaign.product.status != ProductStatus.ON_SALE:
        raise Conflict(_("This item is not for sale."), code="bargain_item_off_sale")
    if campaign.slots_taken >= campaign.stock_cap:
        raise Conflict(_("All bargains of this campaign have been taken."), code="bargain_sold_out")
    return campaign


@dataclass(frozen=True)
class StartResult:
    bargain: Bargain
    created: bool  # False: the shopper's bargain in this campaign was already running


def bargain_start(
    *, shop: Shop, shopper: Shopper, campaign_id: str, device: str = "", ip: str | None = None
) -> StartResult:
    """Start the shopper's bargain in a running campaign, or hand back the one they already have
    (one open or ordered bargain per shopper and campaign, kept by a unique constraint).

    The cut schedule is drawn here, outside any lock, and stored with the bargain."""
    campaign = _campaign_running(shop, campaign_id)
    price = campaign.sku.price
    if price - campaign.floor_price < campaign.helps_needed:
        raise Conflict(_("This item's price has changed: the campaign cannot start."), code="bargain_price_changed")
    now = timezone.now()
    live = Bargain.objects.filter(campaign=campaign, starter=shopper, status__in=[S.OPEN, S.ORDERED])
    # A bargain past its deadline and never ordered is over: mark it so, so a new one may start.
    BARGAIN_STATES.claim(live.filter(deadline__lte=now), current=S.OPEN, to=S.EXPIRED)
    existing = live.first()
    if existing is not None:
        return StartResult(existing, False)
    cuts = cuts_draw(total=price - campaign.floor_price, helps=campaign.helps_needed)
    try:
        with transaction.atomic():
            bargain = Bargain.objects.create(
                shop=shop,
                campaign=campaign,
                starter=shopper,
                start_price=price,
                floor_price=campaign.floor_price,
                current_price=price,
                cuts=cuts,
                deadline=min(now + timedelta(hours=campaign.hours), campaign.ends_at),
                device_key=device_key(device),
                ip_key=network_key(ip),
            )
    except IntegrityError:  # the same shopper started it twice at once: the other one won
        existing = live.first()
        if existing is None:
            raise
        return StartResult(existing, False)
    bargain.campaign = campaign
    return StartResult(bargain, True)


# --- help ----------------------------------------------------------------------------------


def _rate_check(*, helper: Shopper, ip_key: str) -> None:
    hour_ago = timezone.now() - timedelta(hours=1)
    recent = BargainHelp.objects.filter(created_at__gte=hour_ago)
    if recent.filter(helper=helper).count() >= _per_hour("SIYU_BARGAIN_HELPS_PER_SHOPPER_HOUR", 10):
        raise RateLimited(
            _("You have helped many bargains this hour. Please try again later."), detail={"limit": "shopper"}
        )
    if ip_key and recent.filter(ip_key=ip_key).count() >= _per_hour("SIYU_BARGAIN_HELPS_PER_IP_HOUR", 30):
        raise RateLimited(
            _("Too many helps from your network this hour. Please try again later."), detail={"limit": "ip"}
        )


def _places(shop: Shop, shopper_id: int) -> set[str]:
    """Keyed hashes of a shopper's shipping phones and addresses in this shop, in the form the
    distribution's address-cluster flags use (values are encrypted, so compared after decrypting)."""
    keys = set()
    for a in Address.objects.filter(shop=shop, shopper_id=shopper_id).only(
        "phone", "province", "city", "district", "detail"
    ):
        keys.add("phone:" + lookup_hash(a.phone or ""))
        keys.add("address:" + lookup_hash(f"{a.province}|{a.city}|{a.district}|{a.detail}"))
    return keys


def _flags(*, bargain: Bargain, helper: Shopper, device: str, ip_key: str) -> list[str]:
    flags = []
    if bargain.device_key and device_key(device) == bargain.device_key:
        flags.append("same_device")
    if bargain.ip_key and ip_key == bargain.ip_key:
        flags.append("same_network")
    if _places(bargain.shop, helper.pk) & _places(bargain.shop, bargain.starter_id):
        flags.append("same_address")
    return flags


def bargain_help(
    *, shop: Shop, helper: Shopper, bargain_id: str, device: str = "", ip: str | None = None
) -> BargainHelp:
    """Cut a friend's bargain once: the next cut of its stored schedule.

    Refused for the starter, a second help by the same shopper (unique constraint), a bargain
    that is over (deadline, floor reached, ordered, campaign ended) and over the hourly limits per
    shopper and per network. A helper sharing the starter's device, network or shipping address is
    let through and flagged on the help, for staff to see.

    Locks: the bargain row, so N parallel helps take N distinct schedule positions and stop at
    the floor."""
    bargain = Bargain.objects.filter(shop=shop, public_id=str(bargain_id or "")[:16]).select_related("shop").first()
    if bargain is None:
        raise NotFound(detail={"bargain": "not found"})
    if bargain.starter_id == helper.pk:
        raise Conflict(_("Ask your friends to help: you cannot cut your own bargain."), code="bargain_own")
    ip_key = network_key(ip)
    _rate_check(helper=helper, ip_key=ip_key)
    flags = _flags(bargain=bargain, helper=helper, device=device, ip_key=ip_key)
    with transaction.atomic():
        locked = locks.lock_one(
            Bargain.objects.filter(pk=bargain.pk).select_related("campaign"), rank=locks.REACTION, of=("self",)
        )
        _help_allowed(locked)
        position = locked.helps_done + 1
        cut = int(locked.cuts[locked.helps_done])
        try:
            with transaction.atomic():
                made = BargainHelp.objects.create(
                    shop=shop,
                    bargain=locked,
                    helper=helper,
                    position=position,
                    cut=cut,
                    ip_key=ip_key,
                    flags=flags,
                    flagged=bool(flags),
                )
        except IntegrityError:
            raise Conflict(_("You have already helped this bargain."), code="bargain_helped") from None
        Bargain.objects.filter(pk=locked.pk).update(
            helps_done=F("helps_done") + 1, current_price=F("current_price") - cut
        )
    return made


def _help_allowed(bargain: Bargain) -> None:
    if bargain.status != S.OPEN or bargain.deadline <= timezone.now():
        raise Conflict(_("This bargain is over."), code="bargain_closed")
    if bargain.campaign.status != BargainCampaign.Status.ACTIVE:
        raise Conflict(_("This bargain campaign is not running."), code="bargain_campaign_closed")
    if bargain.helps_done >= len(bargain.cuts) or bargain.current_price <= bargain.floor_price:
        raise Conflict(_("This bargain has already reached its lowest price."), code="bargain_done")


# --- the starter's order -------------------------------------------------------------------


def bargain_order_take(*, shop_id: int, shopper_id: int, campaign_ref: str, order_id: int) -> None:
    """In the order's transaction (order.placed): the shopper's open bargain of this campaign
    becomes ordered, and takes one of the campaign's slots the first time it is ordered.
    Either conditional UPDATE finding nothing refuses (Conflict), which rolls the order back."""
    now = timezone.now()
    row = (
        Bargain.objects.filter(
            shop_id=shop_id, campaign__public_id=campaign_ref, starter_id=shopper_id, status=S.OPEN, deadline__gt=now
        )
        .values_list("pk", "campaign_id", "holds_slot")
        .first()
    )
    gone = Conflict(_("This bargain can no longer be bought."), code="bargain_unavailable")
    if row is None:
        raise gone
    pk, campaign_id, holds_slot = row
    if not BARGAIN_STATES.claim(
        Bargain.objects.filter(pk=pk, deadline__gt=now),
        current=S.OPEN,
        to=S.ORDERED,
        order_id=order_id,
        holds_slot=True,
    ):
        raise gone
    if not holds_slot and not BargainCampaign.objects.filter(
        pk=campaign_id, status=BargainCampaign.Status.ACTIVE, slots_taken__lt=F("stock_cap")
    ).update(slots_taken=F("slots_taken") + 1):
        raise Conflict(_("All bargains of this campaign have been taken."), code="bargain_sold_out")


def bargain_order_cancelled(*, order_id: int) -> int:
    """In the cancelling transaction (order.cancelled): the bargain the order bought becomes
    buyable again until its deadline (expired after it). Once: only an ordered bargain of this
    order moves. It keeps its campaign slot (see the module docstring)."""
    BARGAIN_STATES.check(S.ORDERED, S.OPEN)
    return Bargain.objects.filter(order_id=order_id, status=S.ORDERED).update(
        status=Case(When(deadline__gt=timezone.now(), then=Value(S.OPEN)), default=Value(S.EXPIRED)),
        order=None,
    )


def bargain_order_paid(*, order_id: int) -> int:
    """Through the outbox (order.paid): the bargain is bought, and its starter may start another."""
    return BARGAIN_STATES.claim(Bargain.objects.filter(order_id=order_id), current=S.ORDERED, to=S.BOUGHT)


def slots_release_expired(*, now=None, limit: int = 500) -> int:
    """Give back the campaign slots of bargains whose deadline passed without a live order: one
    conditional UPDATE on the bargain (so a slot is given back once), then the campaign's count,
    in the same order as an order taking a slot (bargain, then campaign)."""
    now = now or timezone.now()
    due = list(
        Bargain.objects.filter(holds_slot=True, status__in=[S.OPEN, S.EXPIRED], deadline__lte=now)
        .order_by("pk")
        .values_list("pk", "campaign_id")[:limit]
    )
    released = 0
    for pk, campaign_id in due:
        with transaction.atomic():
            if Bargain.objects.filter(pk=pk, holds_slot=True, status__in=[S.OPEN, S.EXPIRED], deadline__lte=now).update(
                holds_slot=False
            ):
                BargainCampaign.objects.filter(pk=campaign_id, slots_taken__gt=0).update(
                    slots_taken=F("slots_taken") - 1
                )
                released += 1
    return released
