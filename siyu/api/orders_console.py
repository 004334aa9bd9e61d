"""Console endpoints for orders: lists and exports, shipping (one or a spreadsheet), after-sales
decisions and manually recorded payments. Staff of this shop only; the services check each
permission (shipping needs orders.manage, a manual payment finance.manage, a refund refunds.approve)."""

from datetime import date, datetime, time, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from ninja import File, Query, Router, UploadedFile
from ninja.responses import Status

from siyu.orders.exports import order_export_reveals_contacts
from siyu.orders.fulfilment import order_ship, orders_ship_batch, shipping_rows_parse
from siyu.orders.models import Order, OrderLine
from siyu.orders.selectors import aftersales_for_staff, order_for_staff, orders_for_staff
from siyu.payments.aftersales import (
    aftersale_exchange_retry,
    aftersale_exchange_ship,
    aftersale_receive_return,
    aftersale_refund_approve,
    aftersale_refund_retry,
    aftersale_review,
)
from siyu.payments.selectors import order_payments_load
from siyu.payments.services import payment_record_manual

from .auth import staff_auth
from .orders_console_schemas import (
    AfterSaleFilterIn,
    AfterSalePage,
    BatchShipOut,
    ConsoleAfterSaleOut,
    ConsoleOrderDetailOut,
    ConsoleOrderFilterIn,
    ConsoleOrderPage,
    DecisionIn,
    ExportFilterIn,
    ManualPaymentIn,
    ManualPaymentOut,
    OrderFiltersIn,
    ReplacementIn,
    ReplacementShipIn,
    ShipIn,
)
from .orders_export import MAX_EXPORT_ROWS, orders_csv_response, orders_xlsx_response
from .schemas import ERRORS, page_of
from .uploads import refuse_oversized

router = Router(tags=["console orders"], auth=staff_auth)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _day_start(day: date | None, *, plus_days: int = 0) -> datetime | None:
    """Midnight in the shop's time zone, so "to 3 May" includes all of 3 May."""
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day + timedelta(days=plus_days), time.min))


def _filtered(request, filters: OrderFiltersIn):
    qs = orders_for_staff(
        shop=request.shop,
        status=filters.status,
        date_from=_day_start(filters.date_from),
        date_to=_day_start(filters.date_to, plus_days=1),
        q=filters.q,
        product_id=filters.product,
    )
    return qs.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))


def _detail(request, public_id: str) -> Order:
    return order_payments_load(order=order_for_staff(shop=request.shop, public_id=public_id))


# --- orders ------------------------------------------------------------------------------
# Literal paths come before /orders/{public_id}, which would otherwise take them.


@router.get("/orders", response={200: ConsoleOrderPage, **ERRORS})
def orders(request, filters: Query[ConsoleOrderFilterIn]):
    return page_of(_filtered(request, filters), filters)


@router.get("/orders/export", response={200: None, **ERRORS})
def orders_export(request, filters: Query[ExportFilterIn]):
    """The filtered orders as CSV (UTF-8 with BOM) or Excel. Full phones and addresses only for staff
    who ship (orders.manage), and each such export is logged; others get them masked."""
    qs = _filtered(request, filters)
    rows = min(qs.count(), MAX_EXPORT_ROWS)
    reveal = order_export_reveals_contacts(
        actor=request.auth, shop=request.shop, rows=rows, filters=filters.model_dump(mode="json", exclude_defaults=True)
    )
    respond = orders_xlsx_response if filters.format == "xlsx" else orders_csv_response
    return respond(qs, reveal=reveal)


@router.post("/orders/ship-batch", response={200: BatchShipOut, **ERRORS})
def orders_ship_from_file(request, file: File[UploadedFile]):
    """Ship many orders from a CSV or .xlsx with columns order number, carrier and tracking number
    (订单号, 快递公司, 快递单号). Good rows ship; bad rows come back with the reason. A file over
    5 MB is refused with 413 (code too_large)."""
    refuse_oversized(file, limit=MAX_UPLOAD_BYTES, field="file")
    rows = shipping_rows_parse(filename=file.name or "", content=file.read())
    return orders_ship_batch(actor=request.auth, shop=request.shop, rows=rows)


@router.get("/orders/{public_id}", response={200: ConsoleOrderDetailOut, **ERRORS})
def order_detail(request, public_id: str):
    return _detail(request, public_id)


@router.post("/orders/{public_id}/ship", response={200: ConsoleOrderDetailOut, **ERRORS})
def order_ship_one(request, public_id: str, data: ShipIn):
    order = order_for_staff(shop=request.shop, public_id=public_id)
    order_ship(
        actor=request.auth,
        order_id=order.pk,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        lines=data.lines,
    )
    return _detail(request, public_id)


@router.post("/orders/{public_id}/manual-payment", response={200: ManualPaymentOut, **ERRORS})
def order_manual_payment(request, public_id: str, data: ManualPaymentIn):
    """Record a bank or personal transfer for an unpaid order (finance staff)."""
    outcome = payment_record_manual(
        actor=request.auth,
        shop=request.shop,
        order_public_id=public_id,
        amount=data.amount_fen,
        reference=data.reference,
    )
    return {"outcome": outcome, "order": _detail(request, public_id)}


# --- after-sales -------------------------------------------------------------------------


@router.get("/after-sales", response={200: AfterSalePage, **ERRORS})
def aftersales(request, filters: Query[AfterSaleFilterIn]):
    return page_of(aftersales_for_staff(shop=request.shop, status=filters.status).order_by("-id"), filters)


@router.post("/after-sales/{public_id}/decision", response={200: ConsoleAfterSaleOut, **ERRORS})
def aftersale_decision(request, public_id: str, data: DecisionIn):
    """Approve or reject (orders.manage or refunds.approve). An approved refund-only request waits
    for finance (`approved`), or is refunded at once when the caller holds refunds.approve; an
    approved return or exchange waits for the goods (an exchange may name another SKU to send)."""
    return aftersale_review(
        actor=request.auth,
        shop=request.shop,
        public_id=public_id,
        approve=data.approve,
        note=data.note,
        replacement_sku_id=data.replacement_sku_id,
    )


@router.post("/after-sales/{public_id}/receive-return", response={200: ConsoleAfterSaleOut, **ERRORS})
def aftersale_receive(request, public_id: str):
    """The returned goods arrived (orders.manage): back into stock; a return-and-refund's refund is
    then due, and sent at once when the caller holds refunds.approve; an exchange's replacement is
    taken from stock (`replacement_ready`) or waits for it (`awaiting_stock`)."""
    return aftersale_receive_return(actor=request.auth, shop=request.shop, public_id=public_id)


@router.post("/after-sales/{public_id}/refund-approve", response={200: ConsoleAfterSaleOut, **ERRORS})
def aftersale_refund(request, public_id: str):
    """Approve a due refund (refunds.approve: owner, finance); the money goes back to the shopper."""
    return aftersale_refund_approve(actor=request.auth, shop=request.shop, public_id=public_id)


@router.post("/after-sales/{public_id}/refund-retry", response={204: None, **ERRORS})
def aftersale_retry(request, public_id: str):
    """Try a refund again after the provider refused it (refunds.approve)."""
    aftersale_refund_retry(actor=request.auth, shop=request.shop, public_id=public_id)
    return Status(204, None)


@router.post("/after-sales/{public_id}/replacement", response={200: ConsoleAfterSaleOut, **ERRORS})
def aftersale_replacement_retry(request, public_id: str, data: ReplacementIn):
    """Try again to reserve a waiting exchange's replacement (orders.manage), perhaps another SKU
    of the same product at the same price; 409 replacement_out_of_stock when there is still none.
    The worker also tries every minute."""
    return aftersale_exchange_retry(
        actor=request.auth, shop=request.shop, public_id=public_id, replacement_sku_id=data.replacement_sku_id
    )


@router.post("/after-sales/{public_id}/replacement-shipment", response={200: ConsoleAfterSaleOut, **ERRORS})
def aftersale_replacement_ship(request, public_id: str, data: ReplacementShipIn):
    """Send a reserved replacement with its own carrier and tracking number (orders.manage)."""
    return aftersale_exchange_ship(
        actor=request.auth,
        shop=request.shop,
        public_id=public_id,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
    )
