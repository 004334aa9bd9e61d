"""The basket's SKU read, compiled once per process.

Checkout reads the basket's SKUs with their product, shipping template and every checkout hook's
values (siyu/orders/pricing.py) in one SELECT. Building and compiling that ORM query cost more CPU
than running it — most of a checkout's time in the web process — yet its SQL changes between
checkouts only in its values: the shop, the shopper, the time and the SKU ids. So it is a
`PreparedRead` (siyu/core/prepared.py): built once per shape (number of SKUs, signed in or not, the
hooks registered) with stand-in values and reused with the real ones. tests/orders/test_sku_read.py
checks the reused statement against the one the ORM compiles for the real values.
"""

from datetime import UTC, datetime
from typing import Any

from siyu.accounts.models import Shopper
from siyu.catalog.models import Sku
from siyu.core.prepared import PreparedRead
from siyu.shops.models import Shop

from .pricing import hooks_key, sku_read_annotations

# Stand-ins: values no real row or constant in these queries takes.
_SHOP = -7_301_017
_SHOPPER = -7_301_023
_PHONE_HASH = "stand-in-phone-hash-7301"
_NOW = datetime(2001, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
_SKU_BASE = -7_402_000


def skus_query(*, shop: Shop, shopper: Shopper | None, sku_ids: list[int], now: datetime):
    """The ORM query compiled once: the reference its SQL must equal."""
    return (
        Sku.objects.filter(shop=shop, pk__in=sku_ids)
        .select_related("product", "product__shipping_template")
        .annotate(**sku_read_annotations(shop=shop, shopper=shopper, now=now))
    )


def _stand_ins(shape: tuple) -> tuple[dict[str, Any], dict[str, Any]]:
    count, signed_in, _hooks = shape
    shop = Shop(pk=_SHOP)
    shop._state.adding = False  # related filters refuse unsaved instances; this one only lends its pk
    ids = [_SKU_BASE - i for i in range(count)]
    values: dict[str, Any] = {"shop": _SHOP, "now": _NOW, **{f"sku{i}": pk for i, pk in enumerate(ids)}}
    shopper = None
    if signed_in:
        shopper = Shopper(pk=_SHOPPER, phone_hash=_PHONE_HASH)
        shopper._state.adding = False
        values.update(shopper=_SHOPPER, phone=_PHONE_HASH)
    return {"shop": shop, "shopper": shopper, "sku_ids": ids, "now": _NOW}, values


_READ = PreparedRead(Sku, skus_query, _stand_ins)


def _values(shop: Shop, shopper: Shopper | None, sku_ids: list[int], now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"shop": shop.pk, "now": now, **{f"sku{i}": pk for i, pk in enumerate(sku_ids)}}
    if shopper is not None:
        values.update(shopper=shopper.pk, phone=shopper.phone_hash)
    return values


def _shape(shopper: Shopper | None, sku_ids: list[int]) -> tuple:
    return (len(sku_ids), shopper is not None, hooks_key())


def statement_sql(*, shop: Shop, shopper: Shopper | None, sku_ids: list[int], now: datetime) -> tuple[str, list]:
    """The SQL and parameters `skus_read` runs (for tests)."""
    return _READ.sql_with_params(shape=_shape(shopper, sku_ids), **_values(shop, shopper, sku_ids, now))


def skus_read(*, shop: Shop, shopper: Shopper | None, sku_ids: list[int], now: datetime) -> dict[int, Sku]:
    """The basket's SKUs by id, with product, shipping template and the hooks' reads, in one SELECT."""
    if not sku_ids:
        return {}
    found = _READ.fetch(shape=_shape(shopper, sku_ids), **_values(shop, shopper, sku_ids, now))
    return {sku.pk: sku for sku in found}
