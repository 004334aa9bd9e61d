"""The basket's SKU read, compiled once per process.

Checkout reads the basket's SKUs with their product, shipping template and every checkout hook's
values (siyu/orders/pricing.py) in one SELECT. Building and compiling that ORM query cost more CPU
than running it — most of a checkout's time in the web process — yet its SQL changes between
checkouts only in its values: the shop, the shopper, the time and the SKU ids. So it is built once
per shape (database, number of SKUs, signed in or not, the hooks registered) with stand-in values,
compiled, and its SQL reused with the real values put where the stand-ins were. The rows become
model instances the way Django's own ModelIterable makes them (converters, related objects,
annotations). tests/orders/test_sku_read.py checks the reused statement against the one the ORM
compiles for the real values.
"""

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, router
from django.db.models.query import get_related_populators

from siyu.accounts.models import Shopper
from siyu.catalog.models import Sku
from siyu.shops.models import Shop

from .pricing import hooks_key, sku_read_annotations

# Stand-ins: values no real row or constant in these queries takes.
_SHOP = -7_301_017
_SHOPPER = -7_301_023
_PHONE_HASH = "stand-in-phone-hash-7301"
_NOW = datetime(2001, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
_SKU_BASE = -7_402_000


def _skus_query(*, shop: Shop, shopper: Shopper | None, sku_ids: Iterable[int], now: datetime):
    return (
        Sku.objects.filter(shop=shop, pk__in=list(sku_ids))
        .select_related("product", "product__shipping_template")
        .annotate(**sku_read_annotations(shop=shop, shopper=shopper, now=now))
    )


def skus_query(*, shop: Shop, shopper: Shopper | None, sku_ids: Iterable[int], now: datetime):
    """The ORM query this module compiles once: the reference its SQL must equal."""
    return _skus_query(shop=shop, shopper=shopper, sku_ids=sku_ids, now=now)


def _stand_ins(count: int, signed_in: bool) -> tuple[Shop, Shopper | None, list[int]]:
    shop = Shop(pk=_SHOP)
    shop._state.adding = False  # related filters refuse unsaved instances; this one only lends its pk
    shopper = None
    if signed_in:
        shopper = Shopper(pk=_SHOPPER, phone_hash=_PHONE_HASH)
        shopper._state.adding = False
    return shop, shopper, [_SKU_BASE - i for i in range(count)]


@dataclass
class _Statement:
    sql: str
    slots: list[tuple[str, Any]]  # per parameter: ("shop"|"shopper"|"phone"|"now"|"sku", index) or ("const", value)
    compiler: Any
    converters: dict
    init_list: list[str]
    fields_start: int
    fields_end: int
    populators: list
    annotations: dict[str, int]

    def params(self, *, shop: Shop, shopper: Shopper | None, sku_ids: list[int], now_db: Any) -> list[Any]:
        values = {"shop": shop.pk, "now": now_db}
        if shopper is not None:
            values["shopper"], values["phone"] = shopper.pk, shopper.phone_hash
        return [sku_ids[ref] if kind == "sku" else ref if kind == "const" else values[kind] for kind, ref in self.slots]


def _slots(params: Iterable[Any], *, now_db: Any, count: int) -> list[tuple[str, Any]]:
    skus = {_SKU_BASE - i: i for i in range(count)}
    named = {_SHOP: "shop", _SHOPPER: "shopper", _PHONE_HASH: "phone"}
    slots: list[tuple[str, Any]] = []
    for value in params:
        if isinstance(value, int) and not isinstance(value, bool) and value in skus:
            slots.append(("sku", skus[value]))
        elif isinstance(value, int | str) and not isinstance(value, bool) and value in named:
            slots.append((named[value], None))
        elif type(value) is type(now_db) and value == now_db:
            slots.append(("now", None))
        else:
            slots.append(("const", value))
    return slots


def _compile(db: str, count: int, signed_in: bool) -> _Statement:
    shop, shopper, ids = _stand_ins(count, signed_in)
    connection = connections[db]
    query = _skus_query(shop=shop, shopper=shopper, sku_ids=ids, now=_NOW).query
    compiler = query.get_compiler(using=db)
    sql, params = compiler.as_sql()  # also fills compiler.select, klass_info, annotation_col_map
    now_db = connection.ops.adapt_datetimefield_value(_NOW)
    select, klass_info = compiler.select, compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Statement(
        sql=sql,
        slots=_slots(params, now_db=now_db, count=count),
        compiler=compiler,
        converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
        init_list=[f[0].target.attname for f in select[start:end]],
        fields_start=start,
        fields_end=end,
        populators=get_related_populators(klass_info, select, db),  # type: ignore[call-arg]  # stubs are ahead of 5.2
        annotations=dict(compiler.annotation_col_map),
    )


_local = threading.local()  # compiled statements hold a connection's compiler: one cache per thread


def _statement(db: str, count: int, signed_in: bool) -> _Statement:
    cache = getattr(_local, "statements", None)
    if cache is None:
        cache = _local.statements = {}
    key = (db, count, signed_in, hooks_key())
    found = cache.get(key)
    if found is None:
        found = cache[key] = _compile(db, count, signed_in)
    return found


def statement_sql(*, shop: Shop, shopper: Shopper | None, sku_ids: list[int], now: datetime) -> tuple[str, list]:
    """The SQL and parameters `skus_read` runs (for tests)."""
    db = router.db_for_read(Sku)
    statement = _statement(db, len(sku_ids), shopper is not None)
    now_db = connections[db].ops.adapt_datetimefield_value(now)
    return statement.sql, statement.params(shop=shop, shopper=shopper, sku_ids=sku_ids, now_db=now_db)


def skus_read(*, shop: Shop, shopper: Shopper | None, sku_ids: list[int], now: datetime) -> dict[int, Sku]:
    """The basket's SKUs by id, with product, shipping template and the hooks' reads, in one SELECT."""
    if not sku_ids:
        return {}
    db = router.db_for_read(Sku)
    connection = connections[db]
    statement = _statement(db, len(sku_ids), shopper is not None)
    params = statement.params(
        shop=shop, shopper=shopper, sku_ids=sku_ids, now_db=connection.ops.adapt_datetimefield_value(now)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        rows: Iterable = cursor.fetchall()
    if statement.converters:
        rows = statement.compiler.apply_converters(rows, statement.converters)
    found: dict[int, Sku] = {}
    for row in rows:
        sku = Sku.from_db(db, statement.init_list, row[statement.fields_start : statement.fields_end])
        for populator in statement.populators:
            populator.populate(row, sku)
        for name, position in statement.annotations.items():
            setattr(sku, name, row[position])
        found[sku.pk] = sku
    return found
