"""Set-based SQL of the importer: many rows per statement, the same on SQLite and PostgreSQL.

An import of 100,000 rows must not become 100,000 statements: customers and orders go in with one
INSERT … ON CONFLICT DO NOTHING per batch, and the figures of every customer touched are
recomputed with one UPDATE per 2,000 customers.
"""

import os

from django.db import connection, transaction

from siyu.orders.models import Order
from siyu.shops.models import Shop

from .models import Customer, ExternalOrder
from .stats import COUNTED

BATCH_ROWS = 2000
_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # the alphabet of siyu.core.ids, drawn in bulk here


def customers_refresh_figures(*, shop: Shop, customer_ids: list[int]) -> int:
    """order_count, total_spent and first/last order of many customers in one UPDATE per 2,000,
    from their own counted orders plus imported ones (the same figures as stats.customer_refresh_stats)."""
    ids = sorted(set(customer_ids))
    done = 0
    for start in range(0, len(ids), BATCH_ROWS):
        chunk = ids[start : start + BATCH_ROWS]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(*_figures_sql(shop.pk, chunk))
            done += cursor.rowcount
    return done


def select_by_hash(shop_id: int, hashes: list[str], *, made_at) -> list[tuple[int, str, bool]]:
    """(id, phone hash, made at `made_at`) of the shop's customers with these hashes: an import run
    stamps the customers it makes with its start, so this tells them from earlier ones."""
    if not hashes:
        return []
    where, params = is_in("phone_hash", hashes)
    stamp = connection.ops.adapt_datetimefield_value(made_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, phone_hash, created_at = %s FROM {Customer._meta.db_table} WHERE shop_id = %s AND {where}",
            [stamp, shop_id, *params],
        )
        return [(pk, h, bool(same)) for pk, h, same in cursor.fetchall()]


def insert_rows(model, varying: tuple[str, ...], values: list[tuple], fixed: dict, *, returning=()) -> list[tuple]:
    """INSERT … ON CONFLICT DO NOTHING of many rows: on PostgreSQL one array per column through
    unnest (a short statement whatever the rows), elsewhere multi-row VALUES (SQLite ≥ 3.35).
    Columns not given take the model's defaults, so the statement follows the model."""
    fields = {f.attname: f for f in model._meta.concrete_fields if not f.primary_key}
    constants = []
    for name, f in fields.items():
        if name not in varying:
            value = fixed[name] if name in fixed else (f.get_default() if f.has_default() else None)
            constants.append((f, f.get_db_prep_save(value, connection)))
    columns = [fields[name].column for name in varying] + [f.column for f, _v in constants]
    tail = " ON CONFLICT DO NOTHING" + (f" RETURNING {','.join(returning)}" if returning else "")
    head = f"INSERT INTO {model._meta.db_table} ({','.join(columns)}) "
    out: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ",".join(f"%s::{fields[name].db_type(connection)}[]" for name in varying)
            names = ",".join(f"c{i}" for i in range(len(varying)))
            scalars = "".join(f", %s::{f.db_type(connection)}" for f, _v in constants)
            sql = f"{head}SELECT {names}{scalars} FROM unnest({arrays}) AS v({names}){tail}"
            for start in range(0, len(values), BATCH_ROWS):
                chunk = values[start : start + BATCH_ROWS]
                cursor.execute(sql, [*(v for _f, v in constants), *(list(col) for col in zip(*chunk, strict=True))])
                out.extend(cursor.fetchall() if returning else ())
            return out
        consts = tuple(v for _f, v in constants)
        per_row = max(1, 30_000 // len(columns))  # SQLite allows 32,766 parameters per statement
        mark = "(" + ",".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(values), per_row):
            chunk = values[start : start + per_row]
            params = [p for row in chunk for p in (*row, *consts)]
            cursor.execute(head + "VALUES " + ",".join([mark] * len(chunk)) + tail, params)
            out.extend(cursor.fetchall() if returning else ())
    return out


def is_in(column: str, values: list) -> tuple[str, list]:
    """`column IN (…)` for a long list: one array parameter on PostgreSQL."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({','.join(['%s'] * len(values))})", list(values)


def public_ids(n: int) -> list[str]:
    """n random public ids of 12 characters, drawn at once: secrets.choice per character is slow at 100k."""
    raw = os.urandom(12 * n)
    size = len(_ID_ALPHABET)
    return ["".join(_ID_ALPHABET[b % size] for b in raw[i * 12 : i * 12 + 12]) for i in range(n)]


def _figures_sql(shop_id: int, ids: list[int]) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        return _figures_sql_pg(shop_id, ids)
    customer, external, order = Customer._meta.db_table, ExternalOrder._meta.db_table, Order._meta.db_table
    statuses = [str(s) for s in COUNTED]
    marks = ",".join(["%s"] * len(ids))
    sql = f"""
        UPDATE {customer} SET order_count = s.n, total_spent = s.spent, first_order_at = s.first_at,
            last_order_at = s.last_at,
            lifecycle = CASE WHEN s.n > 0 AND {customer}.lifecycle = 'prospect' THEN 'new'
                             ELSE {customer}.lifecycle END
        FROM (
            SELECT cid, COUNT(*) AS n, SUM(amount) AS spent, MIN(at) AS first_at, MAX(at) AS last_at FROM (
                SELECT customer_id AS cid, amount, placed_at AS at FROM {external}
                WHERE customer_id IN ({marks}) AND shop_id = %s
                UNION ALL
                SELECT c.id, o.paid_amount - o.refunded_amount, o.paid_at
                FROM {customer} c JOIN {order} o ON o.shopper_id = c.shopper_id AND o.shop_id = c.shop_id
                WHERE c.id IN ({marks}) AND o.status IN ({",".join(["%s"] * len(statuses))})
            ) AS u GROUP BY cid
        ) AS s
        WHERE {customer}.id = s.cid"""
    return sql, [*ids, shop_id, *ids, *statuses]


def _figures_sql_pg(shop_id: int, ids: list[int]) -> tuple[str, list]:
    # Correlated subqueries make each customer's orders an index lookup, and `shop_id + 0` keeps the
    # planner on the primary key: statistics of tables that were empty a minute ago make the shop_id
    # index look cheaper than it is.
    customer, external, order = Customer._meta.db_table, ExternalOrder._meta.db_table, Order._meta.db_table
    ext = f"FROM {external} e WHERE e.customer_id = c.id"
    own = f"FROM {order} o WHERE o.shop_id = c.shop_id AND o.shopper_id = c.shopper_id AND o.status = ANY(%s)"
    sql = f"""
        UPDATE {customer} AS c SET (order_count, total_spent, first_order_at, last_order_at) = (
            SELECT x.n + y.n, COALESCE(x.spent, 0) + COALESCE(y.spent, 0),
                LEAST(x.first_at, y.first_at), GREATEST(x.last_at, y.last_at)
            FROM (SELECT COUNT(*) AS n, SUM(e.amount) AS spent, MIN(e.placed_at) AS first_at,
                    MAX(e.placed_at) AS last_at {ext}) AS x,
                (SELECT COUNT(*) AS n, SUM(o.paid_amount - o.refunded_amount) AS spent,
                    MIN(o.paid_at) AS first_at, MAX(o.paid_at) AS last_at {own}) AS y
        ),
        lifecycle = CASE WHEN c.lifecycle = 'prospect' AND (EXISTS (SELECT 1 {ext}) OR EXISTS (SELECT 1 {own}))
                         THEN 'new' ELSE c.lifecycle END
        WHERE c.id = ANY(%s) AND c.shop_id + 0 = %s"""
    statuses = [str(s) for s in COUNTED]
    return sql, [statuses, statuses, ids, shop_id]
