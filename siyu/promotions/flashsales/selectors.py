"""Reading flash sales: for the storefront (today's and upcoming sessions, the item on a product
page) and for the console (sessions, their items).

The storefront asks `flash_sales_on(shop_id=…)` first: a per-shop flag in the cache (with a
generation number, so a change in any process drops it at once where the cache is shared), so a
shop that runs no flash sale costs its pages no query once the flag is cached.
"""

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from siyu.core.errors import NotFound
from siyu.shops.models import Shop

from .models import FlashItem, FlashSession, SessionStatus

FLAG_TTL = 60
UPCOMING_DAYS = 2  # the flash-sale page shows sessions running now or starting within this


def _flag_key(shop_id: int) -> str:
    generation = cache.get_or_set("siyu:flash:gen", 1, None)
    return f"siyu:flash:{generation}:on:{int(shop_id)}"


def flash_flag_forget(*, shop_id: int) -> None:
    """Call after a session is scheduled or ended (after commit)."""
    try:
        cache.incr("siyu:flash:gen")
    except ValueError:
        cache.set("siyu:flash:gen", 2, None)


def flash_sales_on(*, shop_id: int) -> bool:
    """Whether the shop has a scheduled session not yet over (cached for FLAG_TTL seconds)."""
    key = _flag_key(shop_id)
    found = cache.get(key)
    if found is None:
        found = int(
            FlashSession.objects.filter(
                shop_id=shop_id, status=SessionStatus.SCHEDULED, ends_at__gt=timezone.now()
            ).exists()
        )
        cache.set(key, found, FLAG_TTL)
    return bool(found)


def _live_sessions(shop_id: int, now: datetime) -> QuerySet[FlashSession]:
    return FlashSession.objects.filter(
        shop_id=shop_id,
        status=SessionStatus.SCHEDULED,
        ends_at__gt=now,
        starts_at__lt=now + timedelta(days=UPCOMING_DAYS),
    ).order_by("starts_at", "id")


def flash_sessions_for_shopper(*, shop: Shop, now: datetime | None = None) -> list[FlashSession]:
    """Sessions running now or starting soon, each with its items (and their SKU and product): two queries."""
    now = now or timezone.now()
    items = FlashItem.objects.select_related("sku", "product").order_by("id")
    return list(_live_sessions(shop.pk, now).prefetch_related(Prefetch("items", queryset=items))[:20])


def flash_item_for_product(*, shop: Shop, product_id: int, now: datetime | None = None) -> FlashItem | None:
    """The product's item in the running session (else the next one to start), with its session: one query."""
    now = now or timezone.now()
    return (
        FlashItem.objects.filter(
            shop=shop,
            product_id=product_id,
            session__in=_live_sessions(shop.pk, now),
            stock_taken=True,
        )
        .select_related("session", "sku")
        .order_by("session__starts_at", "id")
        .first()
    )


def flash_running_session(*, shop: Shop, now: datetime | None = None) -> FlashSession | None:
    now = now or timezone.now()
    return _live_sessions(shop.pk, now).first()


def flash_sessions_for_staff(*, shop: Shop, status: str = "") -> QuerySet[FlashSession]:
    qs = FlashSession.objects.filter(shop=shop).order_by("-starts_at", "-id")
    if status in SessionStatus.values:
        qs = qs.filter(status=status)
    return qs


def flash_session_for_staff(*, shop: Shop, session_id: str) -> FlashSession:
    items = FlashItem.objects.select_related("sku", "product").order_by("id")
    session = (
        FlashSession.objects.filter(shop=shop, public_id=str(session_id))
        .prefetch_related(Prefetch("items", queryset=items))
        .first()
    )
    if session is None:
        raise NotFound(detail={"session": session_id})
    return session


def flash_item_for_staff(*, shop: Shop, item_id: str) -> FlashItem:
    item = (
        FlashItem.objects.filter(shop=shop, public_id=str(item_id)).select_related("session", "sku", "product").first()
    )
    if item is None:
        raise NotFound(detail={"item": item_id})
    return item
