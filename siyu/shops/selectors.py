from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from siyu.core.errors import NotFound

from .models import Shop

_CACHE_PREFIX = "siyu:shop:"


def _cached(key: str, loader):
    """Shops change rarely and are read on every request: keep them in the cache briefly.

    Keys carry a generation number; forgetting a shop bumps it, which drops every entry at once
    (host entries can point at the default shop, so one shop's change touches many keys).
    """
    ttl = settings.SIYU_SHOP_CACHE_SECONDS
    if ttl <= 0:
        return loader()
    generation = cache.get_or_set(_CACHE_PREFIX + "gen", 1, None)
    full_key = f"{_CACHE_PREFIX}{generation}:{key}"
    shop = cache.get(full_key)
    if shop is None:
        shop = loader()
        if shop is not None:
            cache.set(full_key, shop, ttl)
    return shop


def shop_for_request(*, host: str, slug: str | None) -> Shop | None:
    if slug:
        return _cached("slug:" + slug, lambda: Shop.objects.filter(slug=slug).first())
    return _cached("host:" + host, lambda: _by_host_or_default(host))


def _by_host_or_default(host: str) -> Shop | None:
    """One query: the shop on this host if there is one, else the default shop."""
    rows = (
        list(Shop.objects.filter(Q(host=host) | Q(is_default=True))[:2])
        if host
        else list(Shop.objects.filter(is_default=True)[:1])
    )
    return next((s for s in rows if s.host == host), rows[0] if rows else None)


def shop_forget(shop: Shop) -> None:
    try:
        cache.incr(_CACHE_PREFIX + "gen")
    except ValueError:
        cache.set(_CACHE_PREFIX + "gen", 2, None)


def shop_get(*, slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise NotFound(detail={"shop": slug})
    return shop
