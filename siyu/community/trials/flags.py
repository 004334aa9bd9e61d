"""What shopper pages need to know about a shop's trials before touching a trial row: whether it
ever ran one (the "my trials" link) and which products have a trial open for applications (the
product panel). Cached per shop, so a shop without trials pays no query on any page.

Keys carry a per-shop generation that every change bumps, at once and again after its commit (the
scheme of siyu.community.reviews.flags): a reader that filled the cache from rows read before the
commit stored them under the old generation, where nobody looks.
"""

from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

SHARED_TTL = 300
LOCAL_TTL = 30


class Flags(NamedTuple):
    has_trials: bool
    open_products: dict[int, tuple[str, str]]  # product id -> (public id, title) of a trial taking applications


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def _gen_key(shop_id: int) -> str:
    return f"siyu:trials:{int(shop_id)}:gen"


def trial_flags(*, shop_id: int) -> Flags:
    """The shop's flags: from the cache, or one query."""
    from .models import Trial, TrialStatus

    generation = cache.get_or_set(_gen_key(shop_id), 1, None)
    key = f"siyu:trials:{int(shop_id)}:{generation}"
    found = cache.get(key)
    if found is None:
        rows = list(
            Trial.objects.filter(shop_id=shop_id)
            .exclude(status=TrialStatus.DRAFT)
            .order_by("apply_ends_at")
            .values_list("product_id", "public_id", "title", "status", "apply_starts_at", "apply_ends_at")[:200]
        )
        found = (
            bool(rows),
            [
                (product, pid, title, start.timestamp(), end.timestamp())
                for product, pid, title, status, start, end in rows
                if status == TrialStatus.OPEN
            ],
        )
        cache.set(key, found, _ttl())
    now = timezone.now().timestamp()
    open_products: dict[int, tuple[str, str]] = {}
    for product, pid, title, start, end in found[1]:
        if start <= now < end:
            open_products.setdefault(int(product), (str(pid), str(title)))
    return Flags(bool(found[0]), open_products)


def _bump(shop_id: int) -> None:
    try:
        cache.incr(_gen_key(shop_id))
    except ValueError:
        cache.set(_gen_key(shop_id), 2, None)


def trial_flags_forget(*, shop_id: int) -> None:
    """Call in the transaction of every change that may alter a shop's flags."""
    _bump(shop_id)
    transaction.on_commit(lambda: _bump(shop_id))
