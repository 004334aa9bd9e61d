"""What shopper pages need to know about a shop's reviews before touching a review row: whether it
has any visible review at all, and its sensitive-word list (masked in what shoppers see). Cached
per shop, so a product page of a shop without reviews costs no query, and masking costs none.

Keys carry a per-shop generation that every change bumps, at once and again after its commit (a
reader that computed the flags from rows read before the commit stores them under the old
generation, where nobody looks) — the same scheme as siyu.promotions.discounts.flags.
"""

import json
import re
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, JSONField, OuterRef, Subquery

from siyu.shops.models import Shop

from .models import Review, ReviewSettings

SHARED_TTL = 300
LOCAL_TTL = 30
MASK = "＊"


class Flags(NamedTuple):
    has_reviews: bool
    words: tuple[str, ...]


def _ttl() -> int:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return SHARED_TTL if "redis" in backend.lower() else LOCAL_TTL


def _gen_key(shop_id: int) -> str:
    return f"siyu:reviews:{int(shop_id)}:gen"


def review_flags(*, shop_id: int) -> Flags:
    """The shop's flags: from the cache, or one query."""
    generation = cache.get_or_set(_gen_key(shop_id), 1, None)
    key = f"siyu:reviews:{int(shop_id)}:{generation}"
    found = cache.get(key)
    if found is not None:
        return Flags(bool(found[0]), tuple(found[1]))
    row = (
        Shop.objects.filter(pk=shop_id)
        .annotate(
            has=Exists(Review.objects.filter(shop=OuterRef("pk"), is_hidden=False)),
            words=Subquery(
                ReviewSettings.objects.filter(shop=OuterRef("pk")).values("sensitive_words")[:1],
                output_field=JSONField(),
            ),
        )
        .values_list("has", "words")
        .first()
    )
    words = row[1] if row else None
    if isinstance(words, str):  # a JSON column read through a subquery comes back as text on some backends
        words = json.loads(words)
    flags = Flags(bool(row and row[0]), tuple(str(w) for w in (words or [])))
    cache.set(key, (flags.has_reviews, list(flags.words)), _ttl())
    return flags


def _bump(shop_id: int) -> None:
    try:
        cache.incr(_gen_key(shop_id))
    except ValueError:
        cache.set(_gen_key(shop_id), 2, None)


def review_flags_forget(*, shop_id: int) -> None:
    """Call in the transaction of every change that may alter a shop's flags."""
    _bump(shop_id)
    transaction.on_commit(lambda: _bump(shop_id))


@lru_cache(maxsize=256)
def _pattern(words: tuple[str, ...]) -> re.Pattern | None:
    ordered = sorted({w for w in words if w}, key=len, reverse=True)  # longest first: 傻瓜蛋 before 傻瓜
    if not ordered:
        return None
    return re.compile("|".join(re.escape(w) for w in ordered), re.IGNORECASE)


def mask_words(text: str, words: tuple[str, ...]) -> str:
    """`text` with every listed word (any case) replaced by as many ＊ as it has characters."""
    pattern = _pattern(tuple(words))
    if pattern is None or not text:
        return text
    return pattern.sub(lambda m: MASK * len(m.group(0)), text)
