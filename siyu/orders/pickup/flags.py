"""Whether a shop has an active pickup point, cached per shop, so checkout and order pages of a
shop that does not offer pickup cost no query for it.

Keys carry a per-shop generation that every change of a point bumps, at once and again after its
commit (a reader that computed the flag from rows read before the commit stores it under the old
generation, where nobody looks) — the scheme of siyu.community.reviews.flags.
"""

from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef

from siyu.shops.models import Shop

from .models import PickupPoint

SHARED_TTL = 300
LOCAL_TTL = 30


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def _gen_key(shop_id: int) -> str:
    return f"siyu:pickup:{int(shop_id)}:gen"


class Flags(NamedTuple):
    has_points: bool  # any point, active or not: its orders may still wait to be picked up
    offered: bool  # an active point: checkout offers pickup


def pickup_flags(*, shop_id: int) -> Flags:
    """The shop's flags: from the cache, or one query."""
    generation = cache.get_or_set(_gen_key(shop_id), 1, None)
    key = f"siyu:pickup:{int(shop_id)}:{generation}"
    found = cache.get(key)
    if found is not None:
        return Flags(*found)
    points = PickupPoint.objects.filter(shop=OuterRef("pk"))
    row = (
        Shop.objects.filter(pk=shop_id)
        .annotate(any=Exists(points), active=Exists(points.filter(is_active=True)))
        .values_list("any", "active")
        .first()
    )
    flags = Flags(bool(row and row[0]), bool(row and row[1]))
    cache.set(key, tuple(flags), _ttl())
    return flags


def pickup_offered(*, shop_id: int) -> bool:
    """True when the shop has at least one active pickup point."""
    return pickup_flags(shop_id=shop_id).offered


def _bump(shop_id: int) -> None:
    try:
        cache.incr(_gen_key(shop_id))
    except ValueError:
        cache.set(_gen_key(shop_id), 2, None)


def pickup_flags_forget(*, shop_id: int) -> None:
    """Call in the transaction of every change to a shop's points."""
    _bump(shop_id)
    transaction.on_commit(lambda: _bump(shop_id))
