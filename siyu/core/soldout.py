"""Sold-out SKUs remembered in the cache, so a rush's surplus buyers are refused without a transaction.

Once checkout sees a SKU at zero stock it marks it here; later buy requests for it are answered
"sold out" from the cache. Every path that gives stock back clears the mark after its commit
(`soldout_clear_on_commit`); clearing before the commit would let a buyer who still reads the old
zero mark it again. A stale "available" is harmless: the conditional stock UPDATE still decides.

The cache is the default one: Redis when configured (shared by every process, so a clear reaches
them all), else local memory, where a clear reaches only its own process; the marks therefore
expire on their own, quickly with local memory (other processes see restocked goods within
LOCAL_TTL seconds) and as a backstop with Redis (a restock path that forgot to clear).
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

SHARED_TTL = 300
LOCAL_TTL = 5


def _key(sku_id: int) -> str:
    return f"siyu:soldout:{int(sku_id)}"


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def soldout_any(*, sku_ids: Iterable[int]) -> list[int]:
    """The SKUs among `sku_ids` marked sold out (one cache round trip)."""
    keys = {_key(pk): int(pk) for pk in sku_ids}
    if not keys:
        return []
    return sorted(keys[k] for k in cache.get_many(list(keys)))


def soldout_mark(*, sku_id: int) -> None:
    cache.set(_key(sku_id), 1, _ttl())


def soldout_clear(*, sku_ids: Iterable[int]) -> None:
    keys = [_key(pk) for pk in sku_ids]
    if keys:
        cache.delete_many(keys)


def soldout_clear_on_commit(*, sku_ids: Iterable[int]) -> None:
    """Call wherever stock goes up: clears the marks once the new stock is visible to buyers."""
    ids = list(sku_ids)
    transaction.on_commit(lambda: soldout_clear(sku_ids=ids))
