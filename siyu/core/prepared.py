"""ORM queries compiled once per process and run again with other values.

Building and compiling a Django query costs far more CPU than a database takes to answer a
point lookup; on the hottest paths (checkout's SKU read, API token sign-in) it was most of the
request. A `PreparedRead` builds its query once per thread and shape with stand-in values,
compiles it, remembers which parameter is which stand-in, and later runs the same SQL with the
real values in their place, turning rows into model instances as Django's ModelIterable does
(field converters, select_related objects, annotations).

Rules for a builder: every value that changes between calls must be one of the named stand-ins
and must reach the SQL unchanged (a pk, a string, a datetime) — not computed from, compared in
Python, or used twice in different forms. Tests compare `sql_with_params` of a prepared read with
the ORM's own compilation for real values (tests/core/test_prepared.py, tests/orders/test_sku_read.py).
"""

import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

_CONST = object()


@dataclass
class _Compiled:
    sql: str
    slots: list[tuple[Any, Any]]  # per parameter: (stand-in name, None) or (_CONST, value)
    compiler: Any
    converters: dict
    init_list: list[str]
    fields: slice
    populators: list
    annotations: dict[str, int]


def _db_value(connection, value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value


def _is(param: Any, stand_in: Any) -> bool:
    return type(param) is type(stand_in) and param == stand_in


def _compile(queryset: QuerySet, stand_ins: dict[str, Any], db: str) -> _Compiled:
    connection = connections[db]
    compiler = queryset.query.get_compiler(using=db)
    sql, params = compiler.as_sql()  # also fills compiler.select, klass_info, annotation_col_map
    wanted = [(name, _db_value(connection, value)) for name, value in stand_ins.items()]
    slots: list[tuple[Any, Any]] = []
    for param in params:
        name = next((n for n, v in wanted if _is(param, v)), None)
        slots.append((name, None) if name is not None else (_CONST, param))
    select, klass_info = compiler.select, compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Compiled(
        sql=sql,
        slots=slots,
        compiler=compiler,
        converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
        init_list=[f[0].target.attname for f in select[start:end]],
        fields=slice(start, end),
        populators=get_related_populators(klass_info, select, db),  # type: ignore[call-arg]  # stubs: newer Django
        annotations=dict(compiler.annotation_col_map),
    )


class PreparedRead:
    """`build(**kwargs) -> QuerySet` compiled once per thread, database and shape.

    `stand_ins(shape)` gives (the keyword arguments to build with, {name: the value that reaches
    the SQL}): values no real row or constant of the query takes (a negative id, an odd string or
    datetime); `fetch(**values)` then names the real SQL values the same way. `shape` is whatever
    changes the SQL's form besides the values (the number of ids in an IN list, a None)."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        stand_ins: Callable[[Any], tuple[dict[str, Any], dict[str, Any]]],
    ):
        self.model = model
        self.build = build
        self.stand_ins = stand_ins
        self._local = threading.local()  # a compiled query holds its thread's connection

    def _compiled(self, db: str, shape: Hashable) -> _Compiled:
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = {}
        found = cache.get((db, shape))
        if found is None:
            kwargs, sql_values = self.stand_ins(shape)
            found = cache[(db, shape)] = _compile(self.build(**kwargs), sql_values, db)
        return found

    def _statement(self, shape: Hashable, values: dict[str, Any]) -> tuple[str, _Compiled, list[Any]]:
        db = router.db_for_read(self.model)
        compiled = self._compiled(db, shape)
        connection = connections[db]
        params = [
            _db_value(connection, values[name]) if name is not _CONST else const for name, const in compiled.slots
        ]
        return db, compiled, params

    def sql_with_params(self, *, shape: Hashable = None, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and parameters `fetch` runs for these values."""
        _, compiled, params = self._statement(shape, values)
        return compiled.sql, params

    def fetch(self, *, shape: Hashable = None, **values: Any) -> list[Any]:
        db, compiled, params = self._statement(shape, values)
        connection = connections[db]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: Iterable = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        found = []
        for row in rows:
            obj = self.model.from_db(db, compiled.init_list, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found
