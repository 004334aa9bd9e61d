"""Shipping orders, one at a time or in a batch from a spreadsheet."""

import csv
import io
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.events import event_record
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .lifecycle import order_lock, timeline_add, transition
from .models import Order, OrderStatus, Shipment

S = OrderStatus
MAX_BATCH_ROWS = 5000
# ASCII letters, digits and hyphens with at least one letter or digit: what carriers print, and what
# the API document states. `str.isalnum` would also take other scripts' letters and digits.
TRACKING_RE = re.compile(r"[A-Za-z0-9-]*[A-Za-z0-9][A-Za-z0-9-]*")


def tracking_clean(carrier: str, tracking: str) -> tuple[str, str]:
    """A carrier and tracking number as staff typed them, trimmed, or 400 (orders and exchanges)."""
    carrier, tracking = str(carrier or "").strip(), str(tracking or "").strip()
    errors = {}
    if not carrier or len(carrier) > 40:
        errors["carrier"] = "1 to 40 characters"
    if len(tracking) > 40 or not TRACKING_RE.fullmatch(tracking):
        errors["tracking_number"] = "1 to 40 letters or digits"
    if errors:
        raise InvalidInput(_("Check the carrier and tracking number."), detail=errors)
    return carrier, tracking


def order_ship(*, actor: Actor, order_id: int, carrier: str, tracking_number: str, lines: dict | None = None) -> Order:
    """Ship some or all remaining units. `lines` maps order-line id → quantity; None ships everything left."""
    carrier, tracking_number = tracking_clean(carrier, tracking_number)
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        require(actor, "orders.manage", shop_id=order.shop_id)
        if order.status not in (S.PAID, S.PARTIALLY_SHIPPED):
            raise Conflict(_("Only paid orders can be shipped."), code="bad_transition", detail={"from": order.status})
        if order.fulfilment_hold:
            raise Conflict(
                _("This order is on hold and cannot ship yet."),
                code="fulfilment_hold",
                detail={"hold": order.fulfilment_hold},
            )
        order_lines = {ln.pk: ln for ln in order.lines.select_for_update().order_by("pk")}
        wanted = _ship_quantities(order_lines, lines)
        shipped = []
        for line_id, quantity in wanted.items():
            line = order_lines[line_id]
            line.shipped_quantity += quantity
            line.save(update_fields=["shipped_quantity"])
            shipped.append({"line": line_id, "quantity": quantity})
        try:
            with transaction.atomic():
                Shipment.objects.create(order=order, carrier=carrier, tracking_number=tracking_number, lines=shipped)
        except IntegrityError:
            raise Conflict(_("This tracking number is already on the order."), code="duplicate_shipment") from None
        remaining = any(ln.shipped_quantity < ln.quantity - ln.refunded_quantity for ln in order_lines.values())
        note = f"{carrier} {tracking_number}"
        if remaining:
            if order.status == S.PAID:
                transition(order=order, to=S.PARTIALLY_SHIPPED, actor=actor, action="ship", note=note)
            else:
                timeline_add(order=order, actor=actor, action="ship", note=note)
        else:
            transition(
                order=order, to=S.SHIPPED, actor=actor, action="ship", note=note, fields={"shipped_at": timezone.now()}
            )
        event_record(
            topic="order.shipped",
            shop_id=order.shop_id,
            payload={"order": order.pk, "lines": shipped, "complete": not remaining},
        )
    return order


def _ship_quantities(order_lines: dict, lines: dict | None) -> dict[int, int]:
    """Units to ship per line: a line not on this order is 404, more than is left on it 409 (what
    is left changes as the order ships and refunds), a quantity below one 400."""
    open_qty = {pk: ln.quantity - ln.refunded_quantity - ln.shipped_quantity for pk, ln in order_lines.items()}
    if lines is None:
        wanted = {pk: q for pk, q in open_qty.items() if q > 0}
    else:
        wanted = {}
        for raw_id, raw_qty in lines.items():
            try:
                line_id, quantity = int(raw_id), int(raw_qty)
            except (TypeError, ValueError):
                raise InvalidInput(detail={"lines": "line id → quantity"}) from None
            if line_id not in order_lines:
                raise NotFound(_("This line is not on the order."), detail={"line": line_id})
            if quantity < 1:
                raise InvalidInput(detail={"lines": "at least 1 unit a line"})
            if quantity > open_qty[line_id]:
                raise Conflict(
                    _("Ship at most what is left on each line."),
                    code="more_than_left",
                    detail={"line": line_id, "left": open_qty[line_id]},
                )
            wanted[line_id] = quantity
    if not wanted:
        raise Conflict(_("Nothing is left to ship."), code="nothing_to_ship")
    return wanted


def shipping_rows_parse(*, filename: str, content: bytes) -> list[dict]:
    """Read order number, carrier and tracking number columns from CSV (UTF-8/GBK) or Excel."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(content)
    elif name.endswith(".csv") or name.endswith(".txt"):
        try:
            rows = list(csv.reader(io.StringIO(_decode(content))))
        except csv.Error:
            raise InvalidInput(_("The file is not a readable CSV file."), detail={"file": "bad csv"}) from None
    else:
        raise InvalidInput(_("Upload a .csv or .xlsx file."), detail={"file": "unsupported type"})
    if not rows:
        raise InvalidInput(_("The file is empty."), detail={"file": "empty"})
    header = [str(c or "").strip().lower() for c in rows[0]]
    aliases = {
        "order": ("order", "order_number", "订单号", "订单编号"),
        "carrier": ("carrier", "快递公司", "物流公司"),
        "tracking": ("tracking", "tracking_number", "快递单号", "运单号", "物流单号"),
    }
    found = {key: next((i for i, h in enumerate(header) if h in names), None) for key, names in aliases.items()}
    missing = [k for k, v in found.items() if v is None]
    if missing:
        raise InvalidInput(
            _("The file needs columns for order number, carrier and tracking number."),
            detail={"missing_columns": missing},
        )
    columns = {key: index for key, index in found.items() if index is not None}
    if len(rows) - 1 > MAX_BATCH_ROWS:
        raise InvalidInput(detail={"rows": f"at most {MAX_BATCH_ROWS}"})
    out = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [str(c if c is not None else "").strip() for c in row]
        if not any(cells):
            continue
        cells += [""] * (max(columns.values()) + 1 - len(cells))
        out.append(
            {
                "row": number,
                "order": cells[columns["order"]],
                "carrier": cells[columns["carrier"]],
                "tracking": cells[columns["tracking"]],
            }
        )
    return out


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(_("Save the file as UTF-8 or GBK."), detail={"file": "unknown encoding"})


def _xlsx_rows(content: bytes) -> list[list]:
    from xml.etree.ElementTree import ParseError
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True, max_row=MAX_BATCH_ROWS + 2)]
    except (BadZipFile, KeyError, ValueError, OSError, IndexError, ParseError):
        raise InvalidInput(_("The file is not a readable Excel workbook."), detail={"file": "bad xlsx"}) from None


def orders_ship_batch(*, actor: Actor, shop: Shop, rows: list[dict]) -> dict:
    """Ship each row in its own transaction; good rows are applied, bad ones come back with reasons."""
    require(actor, "orders.manage", shop_id=shop.pk)
    numbers = {r["order"] for r in rows}
    ids = dict(Order.objects.filter(shop=shop, number__in=numbers).values_list("number", "pk"))
    shipped, rejected = [], []
    for row in rows:
        order_id = ids.get(row["order"])
        if order_id is None:
            rejected.append({**row, "error": "order not found", "code": "not_found"})
            continue
        try:
            order_ship(actor=actor, order_id=order_id, carrier=row["carrier"], tracking_number=row["tracking"])
            shipped.append(row["order"])
        except DomainError as exc:
            rejected.append({**row, "error": str(exc.message), "code": exc.code})
    return {"shipped": len(shipped), "rejected": rejected, "orders": shipped}
