"""After-sales: the list (and finance's queue of refunds awaiting approval), and the staff steps on
a request (decide, return received, approve or retry a refund, and for an exchange: try the
replacement's stock again, ship the replacement).

The same action forms appear on the list and on the order page; a hidden `order` field sends the
merchant back to the order they came from. Each step is refused here for a role that may not take
it, and again by the service (siyu.payments.aftersales), which is the rule.
"""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError
from siyu.orders.models import AfterSaleStatus
from siyu.orders.selectors import aftersales_for_staff
from siyu.orders.states import REFUND_DUE, reason_text
from siyu.payments import aftersales as service
from siyu.payments.selectors import aftersales_awaiting_refund

from ..decorators import staff_required
from ..labels import AFTERSALE_KIND_LABELS, AFTERSALE_STATUS_LABELS
from ..order_forms import REFUND_QUEUE, AfterSaleDecisionForm, AfterSaleFilterForm
from ..rendering import detail_text, page, render_error

PAGE_SIZE = 20
A = AfterSaleStatus


def aftersale_actions(sale) -> dict:
    """Which staff steps the request's status allows; the services still decide."""
    return {
        "decide": sale.status == A.REQUESTED,
        "receive": sale.status == A.AWAITING_RETURN,
        # Due: recommended by service staff, or refused by the provider and due again.
        "refund": sale.status in REFUND_DUE,
        "stock_retry": sale.status == A.AWAITING_STOCK,
        "ship_replacement": sale.status == A.REPLACEMENT_READY,
    }


def _needs_any(*perms: str):
    """Refuse (403) a member whose role holds none of `perms`, before the service is asked."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not any(request.staff.can(p) for p in perms):
                return render_error(request, status=403, message=_("Your role does not allow this action."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _rows(request, filters: AfterSaleFilterForm):
    status = filters.cleaned_data.get("status", "") if filters.is_valid() else ""
    if not filters.is_bound and request.staff.can("refunds.approve") and not request.staff.can("orders.manage"):
        status = REFUND_QUEUE  # finance opens the page on its queue
    if status == REFUND_QUEUE:
        return status, aftersales_awaiting_refund(shop=request.shop)
    return status, aftersales_for_staff(shop=request.shop, status=status)


@staff_required(perm="orders.view")
def aftersale_list(request):
    filters = AfterSaleFilterForm(request.GET or None)
    status, sales = _rows(request, filters)
    page_obj = Paginator(sales, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "sale": s,
            "kind": AFTERSALE_KIND_LABELS.get(s.kind, s.kind),
            "status": AFTERSALE_STATUS_LABELS.get(s.status, s.status),
            "reason": reason_text(s.reason),
            "actions": aftersale_actions(s),
        }
        for s in page_obj.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "page_obj": page_obj,
        "rows": rows,
        "query": query.urlencode(),
        "queue": status == REFUND_QUEUE,
        "queue_value": REFUND_QUEUE,
    }
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


def _done(request, text: str, sale):
    label = AFTERSALE_STATUS_LABELS.get(sale.status, sale.status)
    messages.success(request, text % {"status": label})
    return _back(request)


def _act(request, text: str, action):
    """Run one after-sale service call: a refusal comes back as a message, a success with the new status."""
    try:
        sale = action()
    except DomainError as exc:
        return _refused(request, exc)
    return _done(request, text, sale)


@staff_required(perm="orders.view")
@require_POST
@_needs_any("orders.manage", "refunds.approve")
def aftersale_decide(request, public_id: str):
    form = AfterSaleDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or reject; the note is at most 300 characters."))
        return _back(request)
    approve = form.cleaned_data["decision"] == "approve"
    return _act(
        request,
        _("The request is handled; it is now: %(status)s."),
        lambda: service.aftersale_review(
            actor=request.staff, shop=request.shop, public_id=public_id, approve=approve, note=form.cleaned_data["note"]
        ),
    )


@staff_required(perm="orders.view")
@require_POST
@_needs_any("orders.manage")
def aftersale_received(request, public_id: str):
    return _act(
        request,
        _("The return is received and back in stock; it is now: %(status)s."),
        lambda: service.aftersale_receive_return(actor=request.staff, shop=request.shop, public_id=public_id),
    )


@staff_required(perm="orders.view")
@require_POST
@_needs_any("refunds.approve")
def aftersale_refund(request, public_id: str):
    return _act(
        request,
        _("The refund is approved; it is now: %(status)s."),
        lambda: service.aftersale_refund_approve(actor=request.staff, shop=request.shop, public_id=public_id),
    )


@staff_required(perm="orders.view")
@require_POST
@_needs_any("refunds.approve")
def aftersale_retry(request, public_id: str):
    try:
        service.aftersale_refund_retry(actor=request.staff, shop=request.shop, public_id=public_id)
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("The refund is sent again."))
    return _back(request)


@staff_required(perm="orders.view")
@require_POST
@_needs_any("orders.manage")
def aftersale_stock_retry(request, public_id: str):
    return _act(
        request,
        _("The replacement is reserved; it is now: %(status)s."),
        lambda: service.aftersale_exchange_retry(actor=request.staff, shop=request.shop, public_id=public_id),
    )


@staff_required(perm="orders.view")
@require_POST
@_needs_any("orders.manage")
def aftersale_ship_replacement(request, public_id: str):
    return _act(
        request,
        _("The replacement is shipped; it is now: %(status)s."),
        lambda: service.aftersale_exchange_ship(
            actor=request.staff,
            shop=request.shop,
            public_id=public_id,
            carrier=request.POST.get("carrier", "")[:100],
            tracking_number=request.POST.get("tracking_number", "")[:100],
        ),
    )
