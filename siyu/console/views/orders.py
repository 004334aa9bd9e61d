"""Orders: the filtered list and its export, the detail page with its timeline, shipping one order
and recording a manual payment."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from siyu.catalog.selectors import products_for_staff
from siyu.core.db_router import replica_reads
from siyu.core.errors import DomainError
from siyu.core.money import format_yuan
from siyu.orders import fulfilment
from siyu.orders.exports import order_contacts, order_contacts_reveal, order_export_reveals_contacts
from siyu.orders.models import OrderLine, OrderStatus
from siyu.orders.selectors import order_for_staff, orders_for_staff
from siyu.orders.states import order_status_label, reason_text, timeline_entries
from siyu.payments.selectors import payments_of_order
from siyu.payments.services import payment_record_manual

from ..decorators import staff_required
from ..labels import (
    AFTERSALE_KIND_LABELS,
    AFTERSALE_STATUS_LABELS,
    PAYMENT_STATUS_LABELS,
    PROVIDER_LABELS,
    REFUND_STATUS_LABELS,
)
from ..order_forms import ManualPaymentForm, OrderFilterForm, ShipForm
from ..rendering import error_status, form_error, page
from ..spreadsheets import csv_response, xlsx_response
from .aftersales import aftersale_actions

PAGE_SIZE = 20
PRODUCT_CHOICES = 300
MAX_EXPORT_ROWS = 20000
SUMMARY_LINES = 2
LINES = Prefetch("lines", queryset=OrderLine.objects.order_by("id"))


def _filters(request) -> tuple[OrderFilterForm, dict]:
    products = products_for_staff(shop=request.shop).select_related(None).only("public_id", "name")[:PRODUCT_CHOICES]
    form = OrderFilterForm(request.GET or None, products=products)
    return form, form.selector_args()


def _line_text(line) -> str:
    return " ".join(filter(None, (line.product_name, line.sku_label, f"×{line.quantity}")))


def _items_summary(order) -> str:
    lines = list(order.lines.all())
    text = "; ".join(_line_text(ln) for ln in lines[:SUMMARY_LINES])
    if len(lines) > SUMMARY_LINES:
        text += " " + _("+%(n)s more") % {"n": len(lines) - SUMMARY_LINES}
    return text


def _status_label(status: str) -> str:
    return order_status_label(status)


@staff_required(perm="orders.view")
@replica_reads()
def order_list(request):
    filters, args = _filters(request)
    orders = orders_for_staff(shop=request.shop, **args).prefetch_related(LINES)
    page_obj = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"order": o, "items": _items_summary(o), "status_label": _status_label(o.status)} for o in page_obj.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page_obj": page_obj, "rows": rows, "query": query.urlencode()}
    return page(request, "console/orders.html", context)


def _export_header() -> list[str]:
    return [
        _("Order number"),
        _("Placed at"),
        _("Status"),
        _("Recipient"),
        _("Phone"),
        _("Region"),
        pgettext("order export", "Address"),
        pgettext("order lines", "Items"),
        _("Goods (yuan)"),
        _("Shipping (yuan)"),
        _("Discount (yuan)"),
        _("Total (yuan)"),
        _("Paid (yuan)"),
        _("Refunded (yuan)"),
        _("Shopper's note"),
    ]


def _export_rows(orders, *, money, full: bool):
    """One row per order. With `full` (the fulfilment permission; the export is logged) the
    recipient, phone and street are whole, for the courier; otherwise masked, as in every list."""
    for o in orders:
        who = order_contacts(o, full=full)
        yield [
            o.number,
            timezone.localtime(o.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            _status_label(o.status),
            who.recipient,
            who.phone,
            who.region,
            who.street,
            _items_summary_full(o),
            money(o.subtotal),
            money(o.shipping_fee),
            money(o.discount),
            money(o.total),
            money(o.paid_amount),
            money(o.refunded_amount),
            o.note,
        ]


def _items_summary_full(order) -> str:
    return "; ".join(_line_text(ln) for ln in order.lines.all())


@staff_required(perm="orders.view")
@replica_reads()
def order_export(request, fmt: str):
    _form, args = _filters(request)
    orders = orders_for_staff(shop=request.shop, **args).prefetch_related(LINES)[:MAX_EXPORT_ROWS]
    full = order_export_reveals_contacts(
        actor=request.staff, shop=request.shop, rows=orders.count(), filters=request.GET.dict()
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        from decimal import Decimal

        # Numbers stay numbers in Excel, so the merchant can sum a column.
        rows = _export_rows(orders, money=lambda fen: Decimal(format_yuan(fen)), full=full)
        return xlsx_response(filename=f"orders-{stamp}.xlsx", title=_("Orders"), header=_export_header(), rows=rows)
    rows = _export_rows(orders, money=format_yuan, full=full)
    return csv_response(filename=f"orders-{stamp}.csv", header=_export_header(), rows=rows)


# --- the detail page ------------------------------------------------------------------------


def _money_rows(request, order, sales_by_id) -> tuple[list[dict], list[dict]]:
    payments = payments_of_order(shop=request.shop, order_id=order.pk)
    pay_rows = [
        {
            "payment": p,
            "provider": PROVIDER_LABELS.get(p.provider, p.provider),
            "status": PAYMENT_STATUS_LABELS.get(p.status, p.status),
        }
        for p in payments
    ]
    refund_rows = [
        {
            "refund": r,
            "status": REFUND_STATUS_LABELS.get(r.status, r.status),
            "provider": PROVIDER_LABELS.get(p.provider, p.provider),
            "sale": sales_by_id.get(r.after_sale_id),
        }
        for p in payments
        for r in p.refunds.all()
    ]
    return pay_rows, refund_rows


def _detail_page(request, order, *, ship_form=None, payment_form=None, status: int = 200):
    """The merchant's main view of one order; a form passed in is shown bound, with its errors."""
    lines = list(order.lines.all())
    by_id = {ln.pk: ln for ln in lines}
    sales = list(order.after_sales.all())
    payments, refunds = _money_rows(request, order, {s.pk: s for s in sales})
    shipments = [
        {"shipment": s, "items": [(by_id.get(x.get("line")), x.get("quantity")) for x in s.lines or []]}
        for s in order.shipments.all()
    ]
    can_ship = order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
    contacts = order_contacts_reveal(actor=request.staff, shop=request.shop, orders=[order], view="order_page")
    context = {
        "order": order,
        "contacts": contacts[order.pk],
        "lines": lines,
        "status_label": _status_label(order.status),
        "timeline": timeline_entries(order=order),
        "payments": payments,
        "refunds": refunds,
        "shipments": shipments,
        "after_sales": [
            {
                "sale": s,
                "line": by_id.get(s.line_id),
                "kind": AFTERSALE_KIND_LABELS.get(s.kind, s.kind),
                "status": AFTERSALE_STATUS_LABELS.get(s.status, s.status),
                "reason": reason_text(s.reason),
                "actions": aftersale_actions(s),
            }
            for s in sales
        ],
        "can_ship": can_ship,
        "ship_form": ship_form or (ShipForm(lines=lines) if can_ship else None),
        "can_pay_manually": order.status == OrderStatus.PENDING_PAYMENT,
        "payment_form": payment_form or ManualPaymentForm(initial={"amount": format_yuan(order.total)}),
    }
    return page(request, "console/order_detail.html", context, status=status)


@staff_required(perm="orders.view")
def order_detail(request, public_id: str):
    return _detail_page(request, order_for_staff(shop=request.shop, public_id=public_id))


def _ship_error(form: ShipForm, exc: DomainError) -> None:
    """The service names the offending line by id; put that error on the line's quantity box."""
    line = exc.detail.get("line") if isinstance(exc.detail, dict) else None
    name = f"qty_{line}"
    if line is not None and name in form.quantity_fields():
        form.add_error(name, str(exc.message))
        return
    form_error(form, exc)


@staff_required(perm="orders.view")
@require_POST
def order_ship(request, public_id: str):
    order = order_for_staff(shop=request.shop, public_id=public_id)
    form = ShipForm(request.POST, lines=order.lines.all())
    if not form.is_valid():
        return _detail_page(request, order, ship_form=form, status=400)
    try:
        order = fulfilment.order_ship(
            actor=request.staff,
            order_id=order.pk,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
            lines=form.service_lines(),
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        _ship_error(form, exc)
        return _detail_page(request, order, ship_form=form, status=error_status(exc))
    if order.status == OrderStatus.SHIPPED:
        messages.success(request, _("The order is shipped."))
    else:
        messages.success(request, _("The parcel is recorded; some items are still to ship."))
    return redirect("console:order_detail", public_id=order.public_id)


PAYMENT_OUTCOMES = {
    "paid": (messages.SUCCESS, gettext_lazy("The transfer is recorded and the order is paid.")),
    "reinstated": (messages.SUCCESS, gettext_lazy("The transfer is recorded and the cancelled order is reinstated.")),
    "needs_refund": (
        messages.WARNING,
        gettext_lazy("The order could no longer take this payment; the money is being refunded."),
    ),
}


@staff_required(perm="orders.view")
@require_POST
def order_payment(request, public_id: str):
    order = order_for_staff(shop=request.shop, public_id=public_id)
    form = ManualPaymentForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, order, payment_form=form, status=400)
    try:
        outcome = payment_record_manual(
            actor=request.staff,
            shop=request.shop,
            order_public_id=order.public_id,
            amount=form.cleaned_data["amount"],
            reference=form.cleaned_data["reference"],
        )
    except DomainError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {}
        if "total" in detail:
            # Say the expected total in yuan rather than the service's fen.
            message = _("The amount must equal the order total, ¥%(total)s.") % {"total": format_yuan(order.total)}
            form.add_error("amount", message)
            return _detail_page(request, order, payment_form=form, status=400)
        form_error(form, exc)
        return _detail_page(request, order, payment_form=form, status=error_status(exc))
    level, text = PAYMENT_OUTCOMES.get(outcome, PAYMENT_OUTCOMES["paid"])
    messages.add_message(request, level, text)
    return redirect("console:order_detail", public_id=order.public_id)
