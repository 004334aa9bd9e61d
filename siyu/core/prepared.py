"""ORM statements compiled once per process and run again with other values, prepared on the server.

Building and compiling a Django query costs far more CPU than a database takes to answer a
point lookup; on the hottest paths (checkout's SKU read, API token sign-in) it was most of the
request. A `PreparedRead` builds its query once per thread and shape with stand-in values,
compiles it, remembers which parameter is which stand-in, and later runs the same SQL with the
real values in their place, turning rows into model instances as Django's ModelIterable does
(field converters, select_related objects, annotations). `insert_new` does the same for the
INSERT of new rows (checkout's order); `insert_new_together` puts several models' INSERTs in one
statement on PostgreSQL (checkout's lines, timeline row and event: one round trip, not three).

Both run through `execute`, which on PostgreSQL binds the values on the server and prepares the
statement once per connection, so PostgreSQL does not parse and plan it again on every request.

Rules for a builder: every value that changes between calls must be one of the named stand-ins
and must reach the SQL unchanged (a pk, a string, a datetime) — not computed from, compared in
Python, or used twice in different forms. Tests compare `sql_with_params` of a prepared read with
the ORM's own compilation for real values (tests/domain/test_prepared.py, tests/orders/test_sku_read.py),
and the rows `insert_new` writes with those `save()` writes.
"""

import functools
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, router
from django.db.backends.utils import CursorWrapper
from django.db.models import Model, QuerySet, signals
from django.db.models.constants import OnConflict
from django.db.models.query import get_related_populators
from django.db.models.sql.subqueries import InsertQuery

_CONST = object()
M = TypeVar("M", bound=Model)


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
    converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
    if klass_info is None:  # values_list(): rows, not instances (see `rows`)
        return _Compiled(sql, slots, compiler, converters, [], slice(0), [], {})
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Compiled(
        sql=sql,
        slots=slots,
        compiler=compiler,
        converters=converters,
        init_list=[f[0].target.attname for f in select[start:end]],
        fields=slice(start, end),
        populators=get_related_populators(klass_info, select, db),  # type: ignore[call-arg]  # stubs: newer Django
        annotations=dict(compiler.annotation_col_map),
    )


def _server_prepared(connection) -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "SIYU_DB_PREPARED_STATEMENTS", True)


def execute(connection, sql: str, params: list[Any]) -> list[tuple]:
    """Run one statement and fetch its rows; on PostgreSQL as a server-side prepared statement.

    Django binds parameters on the client, so PostgreSQL parses and plans every statement again;
    for a statement run on every request (the checkout's SKU read: about 0.6 ms of planning) that
    is most of its cost. Here it is bound on the server and prepared once per connection (psycopg
    keeps the prepared statements of each connection), still through Django's cursor wrapper, so
    query logging, execute wrappers and error translation are unchanged. Off with the setting
    SIYU_DB_PREPARED_STATEMENTS (env var of that name): a pooler in transaction mode that does
    not track prepared statements (PgBouncer before 1.21) needs that."""
    if not _server_prepared(connection):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    connection.close_if_health_check_failed()  # what connection.cursor() does first
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's prepared statements off per connection (for poolers); its own
        # client-binding cursors never prepare, so this reaches only the statements run here.
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    connection.validate_thread_sharing()
    preparing, logged = _cursor_classes()
    wrapper = logged if connection.queries_logged else CursorWrapper
    pg_cursor = preparing(raw)
    with wrapper(pg_cursor, connection) as cursor:
        cursor.execute(sql, params)
        # Straight from psycopg's cursor: `description` would build a Column per column to say
        # whether there are rows at all.
        result = pg_cursor.pgresult
        return pg_cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []


_TUPLES_OK = 2  # psycopg.pq.ExecStatus.TUPLES_OK, without importing psycopg where it is absent
_ONLY_WHEN_ASKED = 2**31 - 1  # psycopg prepares a statement after this many runs, or when told to


@functools.cache
def _cursor_classes():
    from django.db.backends.postgresql.base import CursorDebugWrapper, ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """Binds on the server and prepares every statement it runs."""

        def execute(self, query, params=None, *, prepare=True, binary=None):
            return super().execute(query, params, prepare=prepare, binary=binary)  # type: ignore[misc]

    class LoggedCursor(CursorDebugWrapper):
        """Django's query log (DEBUG, tests) with the statement as its values make it; Django reads
        that off a client-binding cursor, which this is not."""

        def execute(self, sql, params=None):
            try:
                shown = self.db.ops.compose_sql(sql, params)
            except Exception:  # noqa: BLE001 - only the log's wording is at stake
                shown = sql
            with self.debug_sql(shown, params):
                return CursorWrapper.execute(self, sql, params)

    return PreparingCursor, LoggedCursor


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

    @classmethod
    def by_value(cls, model: type[Model], build: Callable[..., QuerySet], **stand_ins: Any) -> "PreparedRead":
        """One shape, each value a keyword of `build` reaching the SQL as it is: `stand_ins` names
        them (build's keyword = the name `fetch` and `rows` take) with their stand-in values."""
        return cls(model, build, lambda _: (stand_ins, stand_ins))

    def _run(self, shape: Hashable, values: dict[str, Any]) -> tuple[str, _Compiled, Iterable]:
        db, compiled, params = self._statement(shape, values)
        rows: Iterable = execute(connections[db], compiled.sql, params)
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return db, compiled, rows

    def sql_with_params(self, *, shape: Hashable = None, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and parameters `fetch` runs for these values."""
        _, compiled, params = self._statement(shape, values)
        return compiled.sql, params

    def rows(self, *, shape: Hashable = None, **values: Any) -> list[tuple]:
        """For a builder that ends in values_list(): its rows, converted as Django converts them."""
        return [tuple(row) for row in self._run(shape, values)[2]]

    def fetch(self, *, shape: Hashable = None, **values: Any) -> list[Any]:
        db, compiled, rows = self._run(shape, values)
        found = []
        for row in rows:
            obj = self.model.from_db(db, compiled.init_list, row[compiled.fields])
            for populator in compiled.populators:
                populator.populate(row, obj)
            for name, position in compiled.annotations.items():
                setattr(obj, name, row[position])
            found.append(obj)
        return found


@dataclass
class _CompiledInsert:
    sql: str
    compiler: Any  # SQLInsertCompiler: turns an instance's field values into parameters
    fields: list
    returning: list  # empty with ignore_conflicts: which rows went in is not known
    converters: dict


_inserts = threading.local()


def _has_expression(compiler, fields: list, objs: Sequence[Model]) -> bool:
    return any(hasattr(compiler.prepare_value(f, compiler.pre_save_val(f, o)), "as_sql") for o in objs for f in fields)


def _insert_compiled(
    model: type[Model], objs: Sequence[Model], db: str, ignore_conflicts: bool = False
) -> _CompiledInsert | None:
    """The INSERT for this many rows of `model`, compiled once; None when these rows hold an
    expression (F(), a database default...), whose SQL is not the plain statement's."""
    cache = getattr(_inserts, "cache", None)
    if cache is None:
        cache = _inserts.cache = {}
    key = (model, len(objs), db, ignore_conflicts)
    found = cache.get(key)
    if found is None:
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
        query = InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
        query.insert_values(fields, list(objs))
        compiler = query.get_compiler(using=db)
        if _has_expression(compiler, fields, objs):
            return None  # not cached: the next plain rows compile the plain statement
        compiler.returning_fields = [] if ignore_conflicts else list(meta.db_returning_fields)
        ((sql, _),) = compiler.as_sql()
        query.objs = []  # the statement is kept, not these instances
        converters = compiler.get_converters([f.get_col(meta.db_table) for f in compiler.returning_fields])
        found = cache[key] = _CompiledInsert(sql, compiler, fields, compiler.returning_fields, converters)
    return found


def _plain(model: type[Model], objs: Sequence[Model]) -> bool:
    """Whether inserting these by compiled SQL does exactly what save()/bulk_create() would: new
    rows with a database-made key, no save() of the model's own, no save signals, no expressions."""
    meta = model._meta
    if meta.auto_field is None or meta.parents or type(objs[0]).save is not Model.save:
        return False
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        return False
    return all(type(o) is model and o.pk is None for o in objs)


def insert_new(objs: list[M], *, ignore_conflicts: bool = False) -> list[M]:
    """INSERT new instances of one model in one statement, as `Model.save(force_insert=True)` (one)
    or `bulk_create` (several) would, and return them with their keys set. The statement is
    compiled once per thread, model and row count, and runs prepared (see `execute`); where that
    could differ from Django's own path (see `_plain`), Django's own path runs.

    ignore_conflicts: rows a unique constraint refuses are skipped (ON CONFLICT DO NOTHING), as
    `bulk_create(ignore_conflicts=True)` does; as there, no key is set on any instance."""
    if objs:
        _insert_planned(objs, _insert_plan(objs, ignore_conflicts), ignore_conflicts)
    return objs


def _insert_planned(
    objs: list[M], plan: tuple[str, "_CompiledInsert", list[Any]] | None, ignore_conflicts: bool = False
) -> None:
    if plan is None:
        _django_insert(type(objs[0]), objs, ignore_conflicts)
        return
    db, compiled, params = plan
    _returned(objs, compiled, execute(connections[db], compiled.sql, params), db)


def insert_new_together(*groups: Sequence[Model]) -> None:
    """INSERT the new rows of several models (one list per model) as `insert_new` would, one list
    after the other; on PostgreSQL in one statement (each INSERT a data-modifying CTE), which saves
    a round trip per list. Elsewhere (SQLite has no INSERT in WITH), or where a list needs Django's
    own path or returns more than its key, one `insert_new` per list."""
    lists = [list(g) for g in groups if g]
    plans = [_insert_plan(g) for g in lists]
    dbs = {plan[0] for plan in plans if plan is not None}
    together = (
        len(lists) > 1
        and len(dbs) == 1
        and all(plan is not None and len(plan[1].returning) == 1 for plan in plans)
        and connections[next(iter(dbs))].vendor == "postgresql"
    )
    if not together:
        for group, plan in zip(lists, plans, strict=True):
            _insert_planned(group, plan)
        return
    (db,) = dbs
    compiled_parts = [plan[1] for plan in plans if plan is not None]
    sql = _together_sql(tuple((c.sql, c.returning[0].column) for c in compiled_parts))
    params = [param for plan in plans if plan is not None for param in plan[2]]
    returned: dict[int, list[tuple]] = {i: [] for i in range(len(lists))}
    for index, pk in execute(connections[db], sql, params):
        returned[index].append((pk,))
    for index, (group, compiled) in enumerate(zip(lists, compiled_parts, strict=True)):
        _returned(group, compiled, returned[index], db)


@functools.lru_cache(maxsize=256)
def _together_sql(parts: tuple[tuple[str, str], ...]) -> str:
    """One statement from (INSERT ... RETURNING key, key column) parts: each INSERT a CTE, then
    (part's index, key) for every row, each part's keys in ascending order, which is the order of
    its rows (one statement takes its keys from the sequence row by row)."""
    ctes = ", ".join(f"g{i} AS ({sql})" for i, (sql, _) in enumerate(parts))
    selects = " UNION ALL ".join(f'SELECT {i}, "{column}" FROM g{i}' for i, (_, column) in enumerate(parts))
    return f"WITH {ctes} {selects} ORDER BY 1, 2"


def _insert_plan(
    objs: Sequence[Model], ignore_conflicts: bool = False
) -> tuple[str, "_CompiledInsert", list[Any]] | None:
    """(database, compiled INSERT, parameters) for these new rows of one model, or None where
    Django's own path must run (see `_plain`, expressions)."""
    model = type(objs[0])
    if not _plain(model, objs):
        return None
    db = router.db_for_write(model, instance=objs[0])
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]  # as save()
    compiled = _insert_compiled(model, objs, db, ignore_conflicts)
    if compiled is None:
        return None
    compiler = compiled.compiler
    value_rows = [[compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in compiled.fields] for obj in objs]
    if any(hasattr(value, "as_sql") for row in value_rows for value in row):
        return None  # an expression: Django's own path compiles it
    # As the compiler lays out the parameters (PostgreSQL: one array per column for several rows).
    _, param_rows = compiler.assemble_as_sql(compiled.fields, value_rows)
    return db, compiled, [param for row in param_rows for param in row]


def _returned(objs: Sequence[Model], compiled: "_CompiledInsert", rows: Iterable, db: str) -> None:
    """Set what the INSERT returned (the keys) on the instances, now saved."""
    if not compiled.returning:  # ignore_conflicts: saved or skipped, as bulk_create leaves them
        rows = [()] * len(objs)
    elif compiled.converters:
        rows = compiled.compiler.apply_converters(rows, compiled.converters)
    for obj, row in zip(objs, rows, strict=True):
        for field, value in zip(compiled.returning, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = db


def _django_insert(model: type[Model], objs: list[M], ignore_conflicts: bool = False) -> list[M]:
    if len(objs) > 1 or ignore_conflicts:
        return model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)  # type: ignore[return-value]  # of objs' model
    objs[0].save(force_insert=True)
    return objs
