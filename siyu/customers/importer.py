"""Bringing past buyers in from order exports of other platforms (Taobao/Tmall, JD, Pinduoduo, any CSV).

The file is streamed (import_stream): a file on disk is checked and counted first, then read again
row by row, and what the import keeps is one batch of about BATCH_ROWS rows, so a million-row export
costs the memory of one batch, not of the file. Each row is cleaned (layouts, import_values); rows that
are not sales (closed, cancelled, unpaid, fully refunded, unknown status) or cannot be read are
rejected with their reason; the rows of one order number become one order (a JD export has a row
per SKU: one order with every title; its amount is the order's, taken once, or each line's, added
up, as the layout says) — within a batch, and a batch never ends inside a run of rows of one order,
as exports list them. Each batch is one transaction: customers are found or made by phone (keyed
hash), each order becomes an ExternalOrder, the unique keys make a second run of the same file a
no-op ("unchanged"), and the figures of the customers it touched are recomputed in set-based SQL.
A bad row never stops the import. At the end the shop's RFM scores and lifecycle stages are
recomputed, so imported buyers are not all "new" until the nightly run.

The counts (ImportJob): imported = customers made, merged = customers already in the pool who
gained orders, orders_added = orders new to the pool, unchanged = rows that brought nothing new,
rejected = rows refused (rejected_reasons tallies them by reason).
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.crypto import encrypt, lookup_hash
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.permissions import require
from siyu.core.spreadsheets import safe_cell
from siyu.shops.models import Shop

from .import_sql import customers_refresh_figures, insert_rows, public_ids, select_by_hash
from .import_stream import Rows, import_source
from .import_values import (
    MAX_AMOUNT_FEN,
    RowError,
    cell_text,
    parse_amount,
    parse_placed_at,
    pick_phone,
    reject_reason_label,
    safe_text,
    split_region,
)
from .layouts import LAYOUTS, Plan, detect_layout, make_plan, order_status_check, read_table
from .models import IMPORT_JOB, Customer, CustomerEvent, ExternalOrder, ImportJob
from .rfm import rfm_recompute

__all__ = [
    "customers_refresh_figures",
    "import_detect_layout",
    "import_job_execute",
    "import_rejected_csv",
    "import_run",
    "import_start",
]

BATCH_ROWS = 2000
REJECTED_KEPT = 10_000  # rows kept with their values; beyond that they are only counted
VALUE_CHARS = 200  # each kept cell is cut to this length
ITEMS_CHARS = 300  # ExternalOrder.items
S = ImportJob.Status

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
    content: bytes | None = None,
    path: Path | None = None,
    layout: str | None = None,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportJob:
    """Import a whole file now and return its finished job: its bytes, or its `path` (streamed from
    disk, for files of any size). `actor` None means the operator of the machine (the CLI); staff
    need customers.manage. Whole-file problems raise InvalidInput."""
    _check(shop=shop, actor=actor, layout=layout)
    source = import_source(filename=filename, content=content, path=path)
    plan = make_plan(header=source.header, layout=layout, mapping=mapping)
    job = ImportJob.objects.create(
        shop=shop,
        created_by=actor if getattr(actor, "pk", None) else None,
        filename=(filename or "")[:200],
        layout=plan.layout.key,
        mapping=_job_mapping(plan, source.header),
        total_rows=source.total_rows,
    )
    IMPORT_JOB.move(job, to=S.RUNNING, actor=actor, why="imported at once")
    return _execute(job=job, plan=plan, rows=source.rows(), actor=actor, progress=progress)


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
    """Run a pending job from its stored upload (the worker's half of import_start). The job is
    claimed with one conditional UPDATE, so a task delivered twice runs it once."""
    job = ImportJob.objects.select_related("shop").filter(pk=job_id).first()
    if job is None:
        raise NotFound(detail={"import": job_id})
    if not IMPORT_JOB.claim(ImportJob.objects.filter(pk=job.pk), current=S.PENDING, to=S.RUNNING):
        job.refresh_from_db()
        return job
    job.refresh_from_db(fields=["status"])
    audit_record(
        shop_id=job.shop_id,
        actor=job.created_by,
        action="import_job.running",
        target=job,
        data={"from": S.PENDING, "to": S.RUNNING, "why": "claimed by the worker"},
    )
    path = _upload_path(job)
    try:
        try:
            source = import_source(filename=job.filename, path=path)
            plan = make_plan(header=source.header, layout=job.layout, mapping=job.mapping.get("given") or None)
        except (OSError, InvalidInput) as exc:
            reason = getattr(exc, "code", "file_missing")
            fields = {"finished_at": timezone.now(), "rejected_rows": [{"row": 0, "reason": reason, "values": []}]}
            IMPORT_JOB.move(job, to=S.FAILED, actor=job.created_by, why=reason, fields=fields)
            return job
        ImportJob.objects.filter(pk=job.pk).update(total_rows=source.total_rows)
        job.total_rows = source.total_rows
        return _execute(job=job, plan=plan, rows=source.rows(), actor=job.created_by, progress=progress)
    finally:
        path.unlink(missing_ok=True)  # an export is full of personal data: never kept after the run


def import_rejected_csv(*, job: ImportJob) -> bytes:
    """The rejected rows as a CSV for Excel (UTF-8 with BOM): row number, reason, then the row as it
    came. Cells that a spreadsheet would run as a formula are made plain text."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = (job.mapping or {}).get("header") or []
    writer.writerow([safe_cell(str(c)) for c in [gettext("Row"), gettext("Reason"), *header]])
    for entry in job.rejected_rows or []:
        values = [safe_cell("" if v is None else str(v)) for v in entry.get("values", [])]
        reason = reject_reason_label(entry.get("reason", ""), entry.get("detail", ""))
        writer.writerow([entry.get("row", ""), safe_cell(str(reason)), *values])
    not_kept = job.rejected - len(job.rejected_rows or [])
    if not_kept > 0:
        writer.writerow(["", gettext("%(count)d more rejected rows were counted but not kept.") % {"count": not_kept}])
    return out.getvalue().encode("utf-8-sig")


# --- running a job ------------------------------------------------------------------------


@dataclass
class _Unit:
    """What the rows of a file bring: one order (all its rows), or one row of a customer list."""

    phone: str
    phone_hash: str
    cells: list  # of the first row: the name and region are read from these only when needed
    external_id: str = ""  # "" for a customer-list row
    placed_at: datetime | None = None
    amount: int = 0
    titles: list[str] = field(default_factory=list)
    rows: int = 1


@dataclass
class _Run:
    """What an import keeps: the batch being written, and only counts beyond it (nothing per row of
    the file). Customers made by this run carry its `now` as created_at, so a later batch tells
    them from customers that were in the pool before (merged) without a set of every id."""

    job: ImportJob
    plan: Plan
    now: datetime
    customers: dict[str, tuple[int, bool]] = field(default_factory=dict)  # batch: hash → (id, made by run)
    merged: set[int] = field(default_factory=set)  # customers from before the run that gained orders
    touched_any: bool = False
    rejected_saved: int = 0  # job.rejected when last saved


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


def _execute(*, job: ImportJob, plan: Plan, rows: Rows, actor, progress: Progress | None) -> ImportJob:
    run = _Run(job=job, plan=plan, now=timezone.now())
    try:
        for batch, size in _batches(run, rows):
            _write(run, batch, size)
            if progress:
                progress(job.processed_rows, job.total_rows)
        if run.touched_any:
            rfm_recompute(shop=job.shop)
    except Exception:
        # Batches already written stay (each committed on its own); the job says it did not finish.
        IMPORT_JOB.claim(
            ImportJob.objects.filter(pk=job.pk), current=S.RUNNING, to=S.FAILED, finished_at=timezone.now()
        )
        raise
    IMPORT_JOB.move(job, to=S.DONE, actor=actor, why="imported", fields={"finished_at": timezone.now()})
    counts = {k: getattr(job, k) for k in ("total_rows", "imported", "merged", "orders_added", "unchanged", "rejected")}
    audit_record(shop_id=job.shop_id, actor=actor, action="customers.import", target=job, data=counts)
    return job


def _batches(run: _Run, rows: Rows) -> Iterator[tuple[list[_Unit], int]]:
    """The rows read as they come, cleaned, in batches of about BATCH_ROWS rows: (units to write,
    rows of the file they span, refused ones included). A batch ends only where a row starts a new
    unit, so the rows of one order listed together never straddle two; refused rows go on the job."""
    batch: list[_Unit] = []
    orders: dict[str, _Unit] = {}  # this batch's orders, for the further rows of each
    size = 0
    for number, cells in rows:
        try:
            unit = _parse(run, cells, orders)
        except RowError as exc:
            _reject(run.job, number, cells, exc)
            size += 1
            continue
        if unit is not None and size >= BATCH_ROWS:
            yield batch, size
            batch, size = [], 0
            orders = {unit.external_id: unit} if unit.external_id else {}
        if unit is not None:
            batch.append(unit)
        size += 1
    if size:
        yield batch, size


# --- reading the rows ---------------------------------------------------------------------


def _reject(job: ImportJob, number: int, cells: list, exc: RowError) -> None:
    job.rejected += 1
    job.rejected_reasons[exc.code] = job.rejected_reasons.get(exc.code, 0) + 1
    if len(job.rejected_rows) < REJECTED_KEPT:
        entry = {"row": number, "reason": exc.code, "values": _kept(cells)}
        if exc.detail:
            entry["detail"] = exc.detail[:VALUE_CHARS]
        job.rejected_rows.append(entry)


def _parse(run: _Run, cells: list, orders: dict[str, _Unit]) -> _Unit | None:
    """The unit a row starts, or None when it adds a line to an order already read."""
    plan, index = run.plan, run.plan.index
    if len(cells) < plan.width:
        raise RowError("row_truncated")
    if not plan.has_orders:
        phone = _phone(run, cells)
        return _Unit(phone=phone, phone_hash=lookup_hash(phone), cells=cells)
    if "status" in index:
        order_status_check(plan.layout, _at(cells, index["status"]), _at(cells, index.get("refund_status")))
    external_id = cell_text(_at(cells, index.get("external_id")))
    if not external_id and "external_id" in index:
        raise RowError("order_missing")
    if len(external_id) > 64:
        raise RowError("order_invalid")
    if external_id in orders:
        _add_line(run, orders[external_id], cells)
        return None
    phone = _phone(run, cells)
    amount = parse_amount(_at(cells, index.get("amount")), unit=plan.amount_unit)
    placed_at = parse_placed_at(_at(cells, index.get("placed_at")))
    title = safe_text(_at(cells, index.get("items")), ITEMS_CHARS)
    if not external_id:  # a generic file without order numbers: the row itself is the key
        external_id = "row-" + lookup_hash(f"{phone}|{placed_at.isoformat()}|{amount}")[:32]
        if external_id in orders:  # the same row twice
            orders[external_id].rows += 1
            return None
    unit = _Unit(phone=phone, phone_hash=lookup_hash(phone), cells=cells, external_id=external_id)
    unit.placed_at, unit.amount = placed_at, amount
    unit.titles = [title] if title else []
    orders[external_id] = unit
    return unit


def _add_line(run: _Run, order: _Unit, cells: list) -> None:
    """A further row of an order: its title joins the order's. Exports that write the order's
    columns on its first row only leave them empty here; a value that is there must agree."""
    index = run.plan.index
    if any(cell_text(_at(cells, i)) for i in run.plan.phones) and _phone(run, cells) != order.phone:
        raise RowError("order_conflict", order.external_id)
    amount_cell = _at(cells, index.get("amount"))
    amount = parse_amount(amount_cell, unit=run.plan.amount_unit) if cell_text(amount_cell) else 0
    date_cell = _at(cells, index.get("placed_at"))
    placed_at = parse_placed_at(date_cell) if cell_text(date_cell) else None
    if run.plan.layout.amount_per == "line":
        total = order.amount + amount
        if total > MAX_AMOUNT_FEN:
            raise RowError("amount_invalid")
    else:  # the order's amount, repeated on each of its rows: counted once
        total = max(order.amount, amount)
    title = safe_text(_at(cells, index.get("items")), ITEMS_CHARS)
    order.amount, order.rows = total, order.rows + 1
    if placed_at is not None and order.placed_at is not None:  # an order's unit always has its date
        order.placed_at = min(order.placed_at, placed_at)
    if title and title not in order.titles:
        order.titles.append(title)


def _phone(run: _Run, cells: list) -> str:
    return pick_phone([_at(cells, i) for i in run.plan.phones])


def _at(cells: list, i: int | None):
    return cells[i] if i is not None and i < len(cells) else None


def _items(titles: list[str]) -> str:
    text = "；".join(titles)
    return text if len(text) <= ITEMS_CHARS else text[: ITEMS_CHARS - 1] + "…"


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


# --- writing a batch ----------------------------------------------------------------------


def _write(run: _Run, units: list[_Unit], rows: int) -> None:
    """One batch in one transaction: customers, orders, their figures, and the job's counts."""
    job = run.job
    run.customers = {}
    with transaction.atomic():
        made = _customers_ensure(run, units)
        made_now, seen = set(made), set()
        added = _orders_insert(run, units) if run.plan.has_orders and units else set()
        merged_here: dict[int, _Unit] = {}
        touched: set[int] = set()
        for unit in units:
            customer_id, made_by_run = run.customers[unit.phone_hash]
            first = customer_id not in seen
            seen.add(customer_id)
            if unit.external_id in added:
                touched.add(customer_id)
                if not made_by_run:
                    run.merged.add(customer_id)
                    merged_here.setdefault(customer_id, unit)
            elif not (first and customer_id in made_now and not unit.external_id):
                job.unchanged += unit.rows  # the order (or the customer of a list) was there already
        _fill_blanks(run, merged_here)
        _events_insert(run, made)
        customers_refresh_figures(shop=job.shop, customer_ids=list(touched))
        run.touched_any = run.touched_any or bool(touched)
        job.imported += len(made)
        job.merged = len(run.merged)
        job.orders_added += len(added)
        job.processed_rows += rows
        fields = ["processed_rows", "imported", "merged", "orders_added", "unchanged"]
        if job.rejected != run.rejected_saved:  # the kept rejected rows are saved only when they grew
            fields += ["rejected", "rejected_rows", "rejected_reasons"]
            run.rejected_saved = job.rejected
        job.save(update_fields=fields)


def _customers_ensure(run: _Run, units: list[_Unit]) -> list[int]:
    """Find or make the customer of every unit; returns the ids made in this batch."""
    shop_id = run.job.shop_id
    wanted: dict[str, _Unit] = {}
    for unit in units:
        if unit.phone_hash not in wanted:
            wanted[unit.phone_hash] = unit
    if not wanted:
        return []
    for pk, h, made_by_run in select_by_hash(shop_id, list(wanted), made_at=run.now):
        run.customers[h] = (pk, made_by_run)
        wanted.pop(h, None)
    made: list[int] = []
    source = run.plan.layout.source
    for _attempt in range(3):  # a clash of random public ids skips the row: draw again for those
        if not wanted:
            break
        values = [
            (pid, h, encrypt(u.phone), *_profile(run.plan.index, u.cells))
            for pid, (h, u) in zip(public_ids(len(wanted)), wanted.items(), strict=True)
        ]
        fixed = {"shop_id": shop_id, "source": source, "created_at": run.now}
        varying = ("public_id", "phone_hash", "phone", "name", "province", "city")
        for pk, h in insert_rows(Customer, varying, values, fixed, returning=("id", "phone_hash")):
            run.customers[h] = (pk, True)
            made.append(pk)
            wanted.pop(h, None)
        for pk, h, _made in select_by_hash(shop_id, list(wanted), made_at=run.now):  # made meanwhile elsewhere
            run.customers[h] = (pk, False)
            wanted.pop(h, None)
    if wanted:
        raise RuntimeError(f"could not store {len(wanted)} customers")
    return made


def _orders_insert(run: _Run, units: list[_Unit]) -> set[str]:
    """Insert the orders not there before; returns the external ids actually added."""
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        (run.customers[u.phone_hash][0], u.external_id, adapt(u.placed_at), u.amount, _items(u.titles)) for u in units
    ]
    fixed = {"shop_id": run.job.shop_id, "source": run.plan.layout.source}
    varying = ("customer_id", "external_id", "placed_at", "amount", "items")
    return {r[0] for r in insert_rows(ExternalOrder, varying, values, fixed, returning=("external_id",))}


def _fill_blanks(run: _Run, units: dict[int, _Unit]) -> None:
    """A customer already in the pool keeps what it has; the file only fills what is empty."""
    profiles = [(*_profile(run.plan.index, u.cells), pk) for pk, u in units.items()]
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
    insert_rows(CustomerEvent, ("customer_id",), [(pk,) for pk in customer_ids], fixed)
