"""After-sales: the list, and the staff steps on a request (decide, return received, retry a refund).

The same action forms appear on the list and on the order page; a hidden `order` field sends the
merchant back to the order they came from.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError
from siyu.orders.models import AfterSaleStatus
from siyu.orders.selectors import aftersales_for_staff
from siyu.payments import services as payments

from ..decorators import staff_required
from ..labels import AFTERSALE_KIND_LABELS, AFTERSALE_STATUS_LABELS
from ..order_forms import AfterSaleDecisionForm, AfterSaleFilterForm
from ..rendering import detail_text, page

PAGE_SIZE = 20
A = AfterSaleStatus


def aftersale_actions(sale) -> dict:
    """Which staff steps the request's status allows; the services still decide."""
    return {
        "decide": sale.status == A.REQUESTED,
        "receive": sale.status == A.AWAITING_RETURN,
        # A refund that failed at the provider leaves the request due again.
        "retry": sale.status in (A.APPROVED, A.RETURNED),
    }


@staff_required(perm="orders.view")
def aftersale_list(request):
    filters = AfterSaleFilterForm(request.GET or None)
    status = filters.cleaned_data.get("status", "") if filters.is_valid() else ""
    page_obj = Paginator(aftersales_for_staff(shop=request.shop, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        {
            "sale": s,
            "kind": AFTERSALE_KIND_LABELS.get(s.kind, s.kind),
            "status": AFTERSALE_STATUS_LABELS.get(s.status, s.status),
            "actions": aftersale_actions(s),
        }
        for s in page_obj.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page_obj": page_obj, "rows": rows, "query": query.urlencode()}
    return page(request, "console/aftersales.html", context)


def _back(request):
    order = (request.POST.get("order") or "").strip()
    if order and order.isalnum() and len(order) <= 20:
        return redirect("console:order_detail", public_id=order)
    return redirect("console:aftersales")


def _refused(request, exc: DomainError):
    """A refusal the merchant can act on comes back as a message; 403 and 404 get their own page."""
    if exc.status in (403, 404):
        raise exc
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    text = str(exc.message)
    if detail and exc.code == "invalid_input":
        text = f"{text} ({detail_text(detail)})"
    messages.error(request, text)
    return _back(request)


@staff_required(perm="orders.view")
@require_POST
def aftersale_decide(request, public_id: str):
    form = AfterSaleDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject; the note is at most 300 characters."))
        return _back(request)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        sale = payments.aftersale_decide(
            actor=request.staff, shop=request.shop, public_id=public_id, approve=approve, note=form.cleaned_data["note"]
        )
    except DomainError as exc:
        return _refused(request, exc)
    label = AFTERSALE_STATUS_LABELS.get(sale.status, sale.status)
    messages.success(request, _("The request is handled; it is now: %(status)s.") % {"status": label})
    return _back(request)


@staff_required(perm="orders.view")
@require_POST
def aftersale_received(request, public_id: str):
    try:
        sale = payments.aftersale_return_received(actor=request.staff, shop=request.shop, public_id=public_id)
    except DomainError as exc:
        return _refused(request, exc)
    label = AFTERSALE_STATUS_LABELS.get(sale.status, sale.status)
    messages.success(request, _("The return is received and back in stock; it is now: %(status)s.") % {"status": label})
    return _back(request)


@staff_required(perm="orders.view")
@require_POST
def aftersale_retry(request, public_id: str):
    try:
        payments.aftersale_refund_retry(actor=request.staff, shop=request.shop, public_id=public_id)
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("The refund is sent again."))
    return _back(request)
