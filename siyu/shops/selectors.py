from django.conf import settings
from django.core.cache import cache

from siyu.core.errors import NotFound

from .models import Shop

_CACHE_PREFIX = "siyu:shop:"


def _cached(key: str, loader):
    """Shops change rarely and are read on every request: keep them in the cache briefly."""
    ttl = settings.SIYU_SHOP_CACHE_SECONDS
    if ttl <= 0:
        return loader()
    shop = cache.get(_CACHE_PREFIX + key)
    if shop is None:
        shop = loader()
        if shop is not None:
            cache.set(_CACHE_PREFIX + key, shop, ttl)
    return shop


def shop_for_request(*, host: str, slug: str | None) -> Shop | None:
    if slug:
        return _cached("slug:" + slug, lambda: Shop.objects.filter(slug=slug).first())
    by_host = _cached("host:" + host, lambda: Shop.objects.filter(host=host).first() or False)
    if by_host:
        return by_host
    return _cached("default", lambda: Shop.objects.filter(is_default=True).first())


def shop_forget(shop: Shop) -> None:
    cache.delete_many([_CACHE_PREFIX + "slug:" + shop.slug, _CACHE_PREFIX + "default", _CACHE_PREFIX + "host:" + shop.host])


def shop_get(*, slug: str) -> Shop:
    shop = Shop.objects.filter(slug=slug).first()
    if shop is None:
        raise NotFound(detail={"shop": slug})
    return shop
