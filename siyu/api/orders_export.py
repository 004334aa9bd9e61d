"""Orders as a spreadsheet: a streamed CSV (UTF-8 with BOM, so Excel reads Chinese) or an .xlsx.

The carrier and tracking columns carry the headers the batch-shipping import reads, so a seller
can export paid orders, fill in tracking numbers and upload the same file back.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import pgettext

from siyu.core.crypto import mask_phone
from siyu.core.db_router import replica_reads, replica_reads_iter
from siyu.core.money import format_yuan
from siyu.core.spreadsheets import safe_cell
from siyu.orders.models import Order, OrderStatus

MAX_EXPORT_ROWS = 50_000
CHUNK = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _header() -> list[str]:
    # A context keeps these column names apart from the same English words elsewhere.
    return [
        pgettext("order export", "Order number"),
        pgettext("order export", "Status"),
        pgettext("order export", "Placed at"),
        pgettext("order export", "Paid at"),
        pgettext("order export", "Items"),
        pgettext("order export", "Quantity"),
        pgettext("order export", "Subtotal"),
        pgettext("order export", "Shipping fee"),
        pgettext("order export", "Total"),
        pgettext("order export", "Amount paid"),
        pgettext("order export", "Amount refunded"),
        pgettext("order export", "Recipient"),
        pgettext("order export", "Phone"),
        pgettext("order export", "Province"),
        pgettext("order export", "City"),
        pgettext("order export", "District"),
        pgettext("order export", "Address"),
        pgettext("order export", "Note"),
        pgettext("order export", "Carrier"),
        pgettext("order export", "Tracking number"),
    ]


def _row(order: Order, money, reveal: bool) -> list:
    """One order; without `reveal` the phone is masked and the street address left out."""
    lines = list(order.lines.all())
    shipments = list(order.shipments.all())
    last = shipments[-1] if shipments else None
    return [
        order.number,
        str(OrderStatus(order.status).label),
        _when(order.created_at),
        _when(order.paid_at),
        "; ".join(f"{ln.product_name} {ln.sku_label}".strip() + f" ×{ln.quantity}" for ln in lines),
        sum(ln.quantity for ln in lines),
        money(order.subtotal),
        money(order.shipping_fee),
        money(order.total),
        money(order.paid_amount),
        money(order.refunded_amount),
        order.recipient,
        order.phone if reveal else mask_phone(order.phone or ""),
        order.province,
        order.city,
        order.district,
        order.address_detail if reveal else "",
        order.note,
        last.carrier if last else "",
        last.tracking_number if last else "",
    ]


def _orders(queryset) -> Iterable[Order]:
    # Slicing first keeps the export bounded; iterator() with a chunk size still prefetches per chunk.
    return queryset.prefetch_related("lines", "shipments")[:MAX_EXPORT_ROWS].iterator(chunk_size=CHUNK)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_stream(queryset, language: str, reveal: bool) -> Iterator[str]:
    # The rows are written after the view has returned, so keep the request's language.
    with translation.override(language):
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(_header())
        for order in _orders(queryset):
            yield writer.writerow([safe_cell(cell) for cell in _row(order, format_yuan, reveal)])


def _filename(ext: str) -> str:
    return f"orders-{timezone.localdate():%Y%m%d}.{ext}"


def orders_csv_response(queryset, *, reveal: bool) -> StreamingHttpResponse:
    # The rows are read while the response streams, after the view has returned: the scope goes with them.
    rows = replica_reads_iter(_csv_stream(queryset, translation.get_language(), reveal))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@replica_reads()
def orders_xlsx_response(queryset, *, reveal: bool) -> HttpResponse:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(pgettext("order export", "Orders"))
    sheet.append(_header())
    for order in _orders(queryset):
        sheet.append([safe_cell(cell) for cell in _row(order, lambda fen: Decimal(fen) / 100, reveal)])
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
