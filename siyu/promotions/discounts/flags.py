"""Which discount kinds a shop runs, remembered in the cache so pages of a shop without any cost no
query (the storefront panels). Checkout does not use these flags: it reads the same facts in its
own SKU query (see hooks.py), so a price is never decided on a stale flag.

A flag says "may apply" (a row exists that has not ended), not "applies now": a stale True costs a
query, never a wrong price or panel. Keys carry a per-shop generation that every change bumps, at
once and again after its commit (a reader that computed the flags from rows read before the commit
stores them under the old generation, where nobody looks).
"""

from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from siyu.shops.models import Shop

from .models import LimitedTimeItem, MemberPrice, Status, ThresholdActivity

SHARED_TTL = 300
LOCAL_TTL = 30  # local memory: other processes see a new discount on their pages within this


class Flags(NamedTuple):
    threshold: bool
    limited: bool
    member: bool


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def _gen_key(shop_id: int) -> str:
    return f"siyu:discounts:{int(shop_id)}:gen"


def discount_flags(*, shop_id: int) -> Flags:
    """The shop's flags: from the cache, or one query."""
    generation = cache.get_or_set(_gen_key(shop_id), 1, None)
    key = f"siyu:discounts:{int(shop_id)}:{generation}"
    found = cache.get(key)
    if found is not None:
        return Flags(*found)
    now = timezone.now()
    row = (
        Shop.objects.filter(pk=shop_id)
        .annotate(
            t=Exists(ThresholdActivity.objects.filter(shop=OuterRef("pk"), status=Status.ACTIVE, ends_at__gt=now)),
            lt=Exists(
                LimitedTimeItem.objects.filter(
                    shop=OuterRef("pk"), discount__status=Status.ACTIVE, discount__ends_at__gt=now
                )
            ),
            m=Exists(MemberPrice.objects.filter(shop=OuterRef("pk"))),
        )
        .values_list("t", "lt", "m")
        .first()
    )
    flags = Flags(*(bool(v) for v in row)) if row else Flags(False, False, False)
    cache.set(key, tuple(flags), _ttl())
    return flags


def _bump(shop_id: int) -> None:
    try:
        cache.incr(_gen_key(shop_id))
    except ValueError:
        cache.set(_gen_key(shop_id), 2, None)


def discount_flags_forget(*, shop_id: int) -> None:
    """Call in the transaction of every change to a shop's discounts."""
    _bump(shop_id)
    transaction.on_commit(lambda: _bump(shop_id))
