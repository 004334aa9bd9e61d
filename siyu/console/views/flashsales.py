"""Flash sales (秒杀) in the console: sessions, their items, scheduling and ending, results per item.

The services check every permission (promotions.manage to change); the pages need promotions.view
and only hide the buttons a role cannot use.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from siyu.catalog.models import ProductStatus, Sku
from siyu.core.errors import DomainError
from siyu.core.money import format_yuan, parse_yuan
from siyu.promotions.flashsales import selectors, services
from siyu.promotions.flashsales.models import SessionStatus
from siyu.promotions.results import promotion_results_many

from ..decorators import staff_required
from ..forms import choice_field
from ..paging import paged
from ..rendering import error_status, form_error, page

VIEW = "promotions.view"
MAX_SKU_CHOICES = 500


class SessionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Session name"), max_length=60)
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    pay_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes to pay"),
        min_value=1,
        max_value=services.MAX_PAY_MINUTES,
        initial=5,
        help_text=gettext_lazy("Unpaid orders are cancelled after this, and their units go back on sale."),
    )


class ItemForm(forms.Form):
    sku = forms.ChoiceField(label=gettext_lazy("Variant"))
    flash_price = forms.CharField(label=gettext_lazy("Flash price (yuan)"), max_length=12)
    flash_stock = forms.IntegerField(
        label=gettext_lazy("Flash stock"),
        min_value=1,
        max_value=1_000_000,
        help_text=gettext_lazy(
            "Taken from the variant's stock when the session is scheduled; what is left goes back when it ends."
        ),
    )
    per_customer_limit = forms.IntegerField(
        label=gettext_lazy("Limit per customer"), min_value=1, max_value=services.MAX_LIMIT, initial=1
    )

    def __init__(self, *args, skus=(), **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "sku").choices = [("", "—")] + [
            (str(s.pk), f"{s.product.name}{' · ' + s.label if s.label else ''} (¥{format_yuan(s.price)}, {s.stock})")
            for s in skus
        ]


def _skus(request) -> list[Sku]:
    return list(
        Sku.objects.filter(shop=request.shop, is_active=True, product__status=ProductStatus.ON_SALE)
        .select_related("product")
        .order_by("product__name", "id")[:MAX_SKU_CHOICES]
    )


def _list_page(request, form=None, status=200):
    wanted = request.GET.get("status", "")
    rows = paged(request, selectors.flash_sessions_for_staff(shop=request.shop, status=wanted))
    return page(
        request,
        "console/flashsales/sessions.html",
        {"paged": rows, "form": form or SessionForm(), "status": wanted, "statuses": SessionStatus.choices},
        status=status,
    )


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def flash_sessions(request):
    if request.method != "POST":
        return _list_page(request)
    form = SessionForm(request.POST)
    if not form.is_valid():
        return _list_page(request, form, status=400)
    try:
        session = services.flash_session_create(actor=request.staff, shop=request.shop, **form.cleaned_data)
    except DomainError as exc:
        form_error(form, exc)
        return _list_page(request, form, status=error_status(exc))
    messages.success(request, _("Session created. Add its items, then schedule it."))
    return redirect("console:flash_session", session.public_id)


def _detail_page(request, session_id: str, form=None, status=200):
    session = selectors.flash_session_for_staff(shop=request.shop, session_id=session_id)
    items = list(session.items.all())
    results = promotion_results_many(shop=request.shop, kind="flash_sale", refs=[i.public_id for i in items])
    draft = session.status == SessionStatus.DRAFT
    return page(
        request,
        "console/flashsales/session.html",
        {
            "session": session,
            "rows": [{"item": i, "results": results.get(i.public_id)} for i in items],
            "draft": draft,
            "form": (form or ItemForm(skus=_skus(request))) if draft else None,
            "status_label": services.SESSION_STATES.label(session.status),
        },
        status=status,
    )


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def flash_session(request, session_id: str):
    """The session: its items with sales and results; while a draft, the form adding an item."""
    if request.method != "POST":
        return _detail_page(request, session_id)
    form = ItemForm(request.POST, skus=_skus(request))
    if not form.is_valid():
        return _detail_page(request, session_id, form, status=400)
    try:
        services.flash_item_add(
            actor=request.staff,
            shop=request.shop,
            session_id=session_id,
            sku_id=form.cleaned_data["sku"],
            flash_price=parse_yuan(form.cleaned_data["flash_price"], field="flash_price"),
            flash_stock=form.cleaned_data["flash_stock"],
            per_customer_limit=form.cleaned_data["per_customer_limit"],
        )
    except DomainError as exc:
        form_error(form, exc)
        return _detail_page(request, session_id, form, status=error_status(exc))
    messages.success(request, _("Item added."))
    return redirect("console:flash_session", session_id)


@staff_required(perm=VIEW)
@require_POST
def flash_session_action(request, session_id: str):
    """Schedule (takes the flash stock), end (gives back what is left) or delete a draft."""
    action = request.POST.get("action", "")
    try:
        if action == "schedule":
            services.flash_session_schedule(actor=request.staff, shop=request.shop, session_id=session_id)
            messages.success(request, _("Scheduled: the flash stock is set aside."))
        elif action == "end":
            services.flash_session_end(actor=request.staff, shop=request.shop, session_id=session_id)
            messages.success(request, _("Ended: what was left went back to stock."))
        elif action == "delete":
            services.flash_session_delete(actor=request.staff, shop=request.shop, session_id=session_id)
            messages.success(request, _("Session deleted."))
            return redirect("console:flash_sessions")
        elif action == "remove_item":
            services.flash_item_remove(actor=request.staff, shop=request.shop, item_id=request.POST.get("item", ""))
            messages.success(request, _("Item removed."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("console:flash_session", session_id)
