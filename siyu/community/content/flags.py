"""Whether a shop uses the content library at all (has a post that is not deleted), cached per
shop: storefront panels and the order handler of a shop without posts cost no query.

Keys carry a per-shop generation that every change bumps, at once and again after its commit (a
reader that computed the flag from rows read before the commit stores it under the old generation,
where nobody looks) — the scheme of siyu.community.reviews.flags.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import Post

SHARED_TTL = 300
LOCAL_TTL = 30


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def _gen_key(shop_id: int) -> str:
    return f"siyu:content:{int(shop_id)}:gen"


def content_in_use(*, shop_id: int) -> bool:
    """The shop has a post: from the cache, or one query."""
    generation = cache.get_or_set(_gen_key(shop_id), 1, None)
    key = f"siyu:content:{int(shop_id)}:{generation}"
    found = cache.get(key)
    if found is not None:
        return bool(found)
    used = Post.objects.filter(shop_id=shop_id, deleted_at__isnull=True).exists()
    cache.set(key, int(used), _ttl())
    return used


def _bump(shop_id: int) -> None:
    try:
        cache.incr(_gen_key(shop_id))
    except ValueError:
        cache.set(_gen_key(shop_id), 2, None)


def content_flags_forget(*, shop_id: int) -> None:
    """Call in the transaction of every change that may alter whether a shop has posts."""
    _bump(shop_id)
    transaction.on_commit(lambda: _bump(shop_id))
