"""Bringing past buyers in from order exports of other platforms (Taobao/Tmall, JD, Pinduoduo, any CSV).

Rows go in batches, one transaction each: customers are found or made by phone (keyed hash), each
row's order becomes an ExternalOrder, and the unique keys make a second run of the same file a no-op
("unchanged"). A bad row never stops the import: it is counted and kept with its reason. At the end
the figures of every customer touched are recomputed in set-based SQL.

Every row ends as exactly one of: imported (made a new customer), merged (added an order to a
customer already there, or made earlier in the same file), unchanged (nothing new), rejected.
"""

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.crypto import encrypt, lookup_hash
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import actor_user, require
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .layouts import (
    LAYOUTS,
    Plan,
    RowError,
    cell_text,
    detect_layout,
    make_plan,
    parse_amount,
    parse_phone,
    parse_placed_at,
    read_table,
    reject_reason_label,
    safe_text,
    split_region,
)
from .models import Customer, CustomerEvent, ExternalOrder, ImportJob
from .stats import COUNTED

BATCH_ROWS = 2000
REJECTED_KEPT = 10_000  # rows kept with their values; beyond that they are only counted
VALUE_CHARS = 200  # each kept cell is cut to this length
_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # the alphabet of siyu.core.ids, drawn in bulk here

Progress = Callable[[int, int], None]  # (processed rows, total rows)


# --- the public services ------------------------------------------------------------------


def import_detect_layout(*, filename: str, content: bytes) -> dict:
    """Read the header of a file: its columns and the layout we recognise (None: map the columns)."""
    table = read_table(filename=filename, content=content)
    return {"header": table.header, "layout": detect_layout(table.header), "rows": len(table.rows)}


def import_run(
    *,
    shop: Shop,
    actor,
    filename: str,
    content: bytes,
    layout: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportJob:
    """Import a whole file now and return its finished job. `actor` None means the operator of the
    machine (the CLI); staff need customers.manage. Whole-file problems raise InvalidInput."""
    _check(shop=shop, actor=actor, layout=layout)
    table = read_table(filename=filename, content=content)
    plan = make_plan(header=table.header, layout=layout, mapping=mapping)
    job = ImportJob.objects.create(
        shop=shop,
        created_by=actor if getattr(actor, "pk", None) else None,
        filename=(filename or "")[:200],
        layout=plan.layout.key,
        mapping=_job_mapping(plan, table.header),
        status="running",
        total_rows=len(table.rows),
    )
    return _execute(job=job, plan=plan, rows=table.rows, actor=actor, progress=progress)


def import_start(
    *, shop: Shop, actor, filename: str, content: bytes, layout: str | None = None, mapping: dict | None = None
) -> ImportJob:
    """Check the file now (so an upload can show what is wrong with it), then import it in the worker.
    The console follows ImportJob.processed_rows / total_rows."""
    from .import_tasks import import_job_run

    _check(shop=shop, actor=actor, layout=layout)
    table = read_table(filename=filename, content=content)
    plan = make_plan(header=table.header, layout=layout, mapping=mapping)
    with transaction.atomic():
        job = ImportJob.objects.create(
            shop=shop,
            created_by=actor if getattr(actor, "pk", None) else None,
            filename=(filename or "")[:200],
            layout=plan.layout.key,
            mapping=_job_mapping(plan, table.header, given=mapping),
            total_rows=len(table.rows),
        )
        path = _upload_path(job)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        transaction.on_commit(lambda: import_job_run(job.pk))
    return job


def import_job_execute(*, job_id: int, progress: Progress | None = None) -> ImportJob:
    """Run a pending job from its stored upload (the worker's half of import_start)."""
    job = ImportJob.objects.select_related("shop").filter(pk=job_id).first()
    if job is None:
        raise NotFound(detail={"import": job_id})
    if job.status != "pending":
        return job
    path = _upload_path(job)
    try:
        content = path.read_bytes()
        table = read_table(filename=job.filename, content=content)
        plan = make_plan(header=table.header, layout=job.layout, mapping=job.mapping.get("given") or None)
    except (OSError, InvalidInput) as exc:
        job.status, job.finished_at = "failed", timezone.now()
        job.rejected_rows = [{"row": 0, "reason": getattr(exc, "code", "file_missing"), "values": []}]
        job.save(update_fields=["status", "finished_at", "rejected_rows"])
        return job
    ImportJob.objects.filter(pk=job.pk).update(status="running", total_rows=len(table.rows))
    job.status, job.total_rows = "running", len(table.rows)
    try:
        return _execute(job=job, plan=plan, rows=table.rows, actor=job.created_by, progress=progress)
    finally:
        path.unlink(missing_ok=True)


def import_rejected_csv(*, job: ImportJob) -> bytes:
    """The rejected rows as a CSV for Excel (UTF-8 with BOM): row number, reason, then the row as it
    came. Cells that a spreadsheet would run as a formula are made plain text."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = (job.mapping or {}).get("header") or []
    writer.writerow([_neutral(c) for c in [gettext("Row"), gettext("Reason"), *header]])
    for entry in job.rejected_rows or []:
        values = [_neutral(v) for v in entry.get("values", [])]
        writer.writerow([entry.get("row", ""), _neutral(reject_reason_label(entry.get("reason", ""))), *values])
    not_kept = job.rejected - len(job.rejected_rows or [])
    if not_kept > 0:
        writer.writerow(["", gettext("%(count)d more rejected rows were counted but not kept.") % {"count": not_kept}])
    return out.getvalue().encode("utf-8-sig")


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


# --- running a job ------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    phone: str
    cells: list  # the name and region are read from these only when the row makes or fills a customer
    external_id: str = ""
    placed_at: datetime | None = None
    amount: int = 0
    items: str = ""


@dataclass
class _Run:
    job: ImportJob
    plan: Plan
    now: datetime
    hashes: dict[str, str] = field(default_factory=dict)  # phone → lookup hash
    customers: dict[str, tuple[int, bool]] = field(default_factory=dict)  # hash → (id, made by this run)
    seen: set[str] = field(default_factory=set)  # hashes that already had a row in this run
    orders_seen: set[str] = field(default_factory=set)
    touched: set[int] = field(default_factory=set)


def _check(*, shop: Shop, actor, layout: str | None) -> None:
    if actor is not None:
        require(actor, "customers.manage", shop_id=shop.pk)
    if layout is not None and layout not in LAYOUTS:
        raise InvalidInput(_("Unknown layout."), code="import_layout", detail={"layouts": list(LAYOUTS)})


def _job_mapping(plan: Plan, header: list[str], given: dict | None = None) -> dict:
    return {"columns": plan.columns, "header": header, "given": dict(given or {})}


def _upload_path(job: ImportJob):
    # Under the private data folder, not media: an export is full of personal data.
    return settings.DATA_DIR / "imports" / f"{job.shop_id}-{job.pk}.upload"


def _execute(*, job: ImportJob, plan: Plan, rows: list, actor, progress: Progress | None) -> ImportJob:
    run = _Run(job=job, plan=plan, now=timezone.now())
    try:
        for start in range(0, len(rows), BATCH_ROWS):
            _batch(run, rows[start : start + BATCH_ROWS])
            if progress:
                progress(job.processed_rows, job.total_rows)
        customers_refresh_figures(shop=job.shop, customer_ids=list(run.touched))
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(status="failed", finished_at=timezone.now())
        raise
    job.status, job.finished_at = "done", timezone.now()
    job.save(update_fields=["status", "finished_at"])
    counts = {k: getattr(job, k) for k in ("total_rows", "imported", "merged", "unchanged", "rejected")}
    audit_record(shop_id=job.shop_id, actor=actor_user(actor), action="customers.import", target=job, data=counts)
    return job


def _batch(run: _Run, rows: list[tuple[int, list]]) -> None:
    job = run.job
    good: list[_Row] = []
    kept_before = len(job.rejected_rows)
    for number, cells in rows:
        try:
            good.append(_parse(run, number, cells))
        except RowError as exc:
            job.rejected += 1
            if len(job.rejected_rows) < REJECTED_KEPT:
                job.rejected_rows.append({"row": number, "reason": exc.code, "values": _kept(cells)})
    with transaction.atomic():
        made = _customers_ensure(run, good)
        new_orders = _orders_insert(run, good)
        merged_existing: dict[int, _Row] = {}
        for row in good:
            customer_id, made_here = run.customers[run.hashes[row.phone]]
            first_row = run.hashes[row.phone] not in run.seen
            run.seen.add(run.hashes[row.phone])
            if first_row and made_here:
                job.imported += 1
                run.touched.add(customer_id)
            elif row.external_id and row.external_id in new_orders:
                job.merged += 1
                run.touched.add(customer_id)
                if not made_here:
                    merged_existing.setdefault(customer_id, row)
            else:
                job.unchanged += 1
        _fill_blanks(run, merged_existing)
        _events_insert(run, made)
        job.processed_rows += len(rows)
        fields = ["processed_rows", "imported", "merged", "unchanged", "rejected"]
        job.save(update_fields=fields + (["rejected_rows"] if len(job.rejected_rows) > kept_before else []))


def _parse(run: _Run, number: int, cells: list) -> _Row:
    index = run.plan.index
    phone = parse_phone(_at(cells, index.get("phone")))
    if phone not in run.hashes:
        run.hashes[phone] = lookup_hash(phone)
    row = _Row(number=number, phone=phone, cells=cells)
    if run.plan.has_orders:
        row.amount = parse_amount(_at(cells, index.get("amount")))
        row.placed_at = parse_placed_at(_at(cells, index.get("placed_at")))
        row.items = safe_text(_at(cells, index.get("items")), 300)
        row.external_id = cell_text(_at(cells, index.get("external_id")))
        if not row.external_id and "external_id" in index:
            raise RowError("order_missing")
        if not row.external_id:  # a generic file without order numbers: the row itself is the key
            row.external_id = "row-" + lookup_hash(f"{phone}|{row.placed_at.isoformat()}|{row.amount}")[:32]
        if len(row.external_id) > 64:
            raise RowError("order_invalid")
    return row


def _at(cells: list, i: int | None):
    return cells[i] if i is not None and i < len(cells) else None


def _profile(index: dict[str, int], cells: list) -> tuple[str, str, str]:
    """Name, province and city of a row; the region from the address when there are no columns."""
    province, city = safe_text(_at(cells, index.get("province")), 20), safe_text(_at(cells, index.get("city")), 30)
    if not (province and city) and "address" in index:
        parsed = split_region(_at(cells, index["address"]))
        province, city = province or parsed[0][:20], city or parsed[1][:30]
    name = safe_text(_at(cells, index.get("name")), 40) or safe_text(_at(cells, index.get("buyer")), 40)
    return name, province, city


def _kept(cells: list) -> list[str]:
    return [(v.isoformat(" ") if isinstance(v, datetime) else cell_text(v))[:VALUE_CHARS] for v in cells]


def _neutral(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


# --- set-based writes ---------------------------------------------------------------------


def _customers_ensure(run: _Run, rows: list[_Row]) -> list[int]:
    """Find or make the customer of every row; returns the ids made in this batch."""
    shop_id = run.job.shop_id
    wanted: dict[str, _Row] = {}
    for row in rows:
        h = run.hashes[row.phone]
        if h not in run.customers and h not in wanted:
            wanted[h] = row
    if not wanted:
        return []
    for pk, h in _select_by_hash(shop_id, list(wanted)):
        run.customers[h] = (pk, False)
        wanted.pop(h, None)
    made: list[int] = []
    source = run.plan.layout.source
    for _attempt in range(3):  # a clash of random public ids skips the row: draw again for those
        if not wanted:
            break
        values = [
            (pid, h, encrypt(r.phone), *_profile(run.plan.index, r.cells))
            for pid, (h, r) in zip(_public_ids(len(wanted)), wanted.items(), strict=True)
        ]
        fixed = {"shop_id": shop_id, "source": source, "created_at": run.now}
        varying = ("public_id", "phone_hash", "phone", "name", "province", "city")
        for pk, h in _insert(Customer, varying, values, fixed, returning=("id", "phone_hash")):
            run.customers[h] = (pk, True)
            made.append(pk)
            wanted.pop(h, None)
        for pk, h in _select_by_hash(shop_id, list(wanted)):  # made meanwhile by someone else
            run.customers[h] = (pk, False)
            wanted.pop(h, None)
    if wanted:
        raise RuntimeError(f"could not store {len(wanted)} customers")
    return made


def _select_by_hash(shop_id: int, hashes: list[str]) -> list[tuple[int, str]]:
    if not hashes:
        return []
    where, params = _is_in("phone_hash", hashes)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, phone_hash FROM {Customer._meta.db_table} WHERE shop_id = %s AND {where}", [shop_id, *params]
        )
        return cursor.fetchall()


def _orders_insert(run: _Run, rows: list[_Row]) -> set[str]:
    """Insert the orders not seen before; returns the external ids actually added."""
    values = []
    adapt = connection.ops.adapt_datetimefield_value
    for row in rows:
        if row.external_id and row.external_id not in run.orders_seen:
            run.orders_seen.add(row.external_id)
            customer_id = run.customers[run.hashes[row.phone]][0]
            values.append((customer_id, row.external_id, adapt(row.placed_at), row.amount, row.items))
    if not values:
        return set()
    fixed = {"shop_id": run.job.shop_id, "source": run.plan.layout.source}
    varying = ("customer_id", "external_id", "placed_at", "amount", "items")
    return {r[0] for r in _insert(ExternalOrder, varying, values, fixed, returning=("external_id",))}


def _fill_blanks(run: _Run, rows: dict[int, _Row]) -> None:
    """A customer already in the pool keeps what it has; the file only fills what is empty."""
    profiles = [(*_profile(run.plan.index, r.cells), pk) for pk, r in rows.items()]
    params = [p for p in profiles if any(p[:3])]
    if not params:
        return
    table = Customer._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET name = CASE WHEN name = '' THEN %s ELSE name END, "
            "province = CASE WHEN province = '' THEN %s ELSE province END, "
            "city = CASE WHEN city = '' THEN %s ELSE city END "
            "WHERE id = %s AND (name = '' OR province = '' OR city = '')",
            params,
        )


def _events_insert(run: _Run, customer_ids: list[int]) -> None:
    if not customer_ids:
        return
    data = {"import": run.job.pk, "source": run.plan.layout.source}
    fixed = {"shop_id": run.job.shop_id, "at": run.now, "kind": "imported", "actor_label": "import", "data": data}
    _insert(CustomerEvent, ("customer_id",), [(pk,) for pk in customer_ids], fixed)


def _insert(model, varying: tuple[str, ...], values: list[tuple], fixed: dict, *, returning=()) -> list[tuple]:
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


def _is_in(column: str, values: list) -> tuple[str, list]:
    """`column IN (…)` for a long list: one array parameter on PostgreSQL."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({','.join(['%s'] * len(values))})", list(values)


def _public_ids(n: int) -> list[str]:
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
