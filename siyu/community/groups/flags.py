"""Whether a shop runs community groups at all, cached per shop: a checkout, a "me" page or a
storefront request of a shop without groups then costs no query for them.

Keys carry a per-shop generation that every change bumps, at once and again after its commit (a
reader that computed the flag from rows read before the commit stores it under the old generation,
where nobody looks) — the same scheme as siyu.community.reviews.flags.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from .models import Group

SHARED_TTL = 300
LOCAL_TTL = 30


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def _gen_key(shop_id: int) -> str:
    return f"siyu:groups:{int(shop_id)}:gen"


def groups_on(*, shop_id: int) -> bool:
    """True when the shop has an active group: from the cache, or one query."""
    generation = cache.get_or_set(_gen_key(shop_id), 1, None)
    key = f"siyu:groups:{int(shop_id)}:{generation}"
    found = cache.get(key)
    if found is not None:
        return bool(found)
    on = Group.objects.filter(shop_id=shop_id, is_active=True).exists()
    cache.set(key, 1 if on else 0, _ttl())
    return on


def _bump(shop_id: int) -> None:
    try:
        cache.incr(_gen_key(shop_id))
    except ValueError:
        cache.set(_gen_key(shop_id), 2, None)


def groups_flag_forget(*, shop_id: int) -> None:
    """Call in the transaction of every change that may turn a shop's flag on or off."""
    _bump(shop_id)
    transaction.on_commit(lambda: _bump(shop_id))
