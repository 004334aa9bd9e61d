"""Coupons in the console: the list (status tabs, claimed and used counts, results), the form per
kind, start and end, the push to a saved segment with its progress, and each coupon's results
and grants.

The services check every permission (promotions.manage to change); the pages need
promotions.view and only hide the buttons a role cannot use. Amounts are typed in yuan and a
percent off as a percentage ("15" for 15% off, 8.5折); the services take fen and basis points.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from siyu.core.errors import DomainError, InvalidInput
from siyu.core.money import format_yuan, parse_yuan
from siyu.promotions.coupons import grants as coupon_grants
from siyu.promotions.coupons import selectors, services
from siyu.promotions.coupons.models import Coupon, CouponKind, CouponRule, CouponScope, CouponStatus, PushStatus
from siyu.promotions.results import promotion_results, promotion_results_many

from ..decorators import staff_required
from ..forms import choice_field
from ..paging import paged
from ..rendering import error_status, form_error, page

VIEW = "promotions.view"
YUAN_FIELDS = ("amount_off", "max_off", "min_spend")
# Which kinds use a field (the form's script shows only those; the services ignore the rest).
KIND_FIELDS = {
    "amount_off": "amount_off no_threshold",
    "percent_off": "percent_off",
    "max_off": "percent_off",
    "min_spend": "amount_off percent_off free_shipping",
}
_DATETIME = {"type": "datetime-local"}


class CouponForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Coupon name"), max_length=40)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=CouponKind.choices)
    amount_off = forms.CharField(label=gettext_lazy("Amount off (yuan)"), max_length=12, required=False)
    percent_off = forms.CharField(
        label=gettext_lazy("Percent off"),
        max_length=6,
        required=False,
        help_text=gettext_lazy("15 takes 15 percent off (8.5折)."),
    )
    max_off = forms.CharField(
        label=gettext_lazy("At most (yuan)"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("The most a percent-off coupon takes off; empty for no cap."),
    )
    min_spend = forms.CharField(
        label=gettext_lazy("Minimum spend (yuan)"),
        max_length=12,
        required=False,
        help_text=gettext_lazy("Measured on the items the coupon is for."),
    )
    scope = forms.ChoiceField(label=gettext_lazy("For"), choices=CouponScope.choices, initial=CouponScope.ALL)
    category_ids = forms.MultipleChoiceField(label=gettext_lazy("Categories"), required=False)
    product_ids = forms.MultipleChoiceField(label=gettext_lazy("Products"), required=False)
    excluded_product_ids = forms.MultipleChoiceField(label=gettext_lazy("Except these products"), required=False)
    valid_from = forms.DateTimeField(
        label=gettext_lazy("Valid from"), required=False, widget=forms.DateTimeInput(attrs=_DATETIME)
    )
    valid_until = forms.DateTimeField(
        label=gettext_lazy("Valid until"), required=False, widget=forms.DateTimeInput(attrs=_DATETIME)
    )
    valid_days = forms.IntegerField(
        label=gettext_lazy("Or valid for days after the claim"),
        required=False,
        min_value=1,
        max_value=366,
        help_text=gettext_lazy("Leave the dates empty to use this."),
    )
    total = forms.IntegerField(
        label=gettext_lazy("Total to give out"),
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text=gettext_lazy("Empty for no limit."),
    )
    per_customer = forms.IntegerField(label=gettext_lazy("Claims per customer"), min_value=1, max_value=100, initial=1)
    public = forms.BooleanField(
        label=gettext_lazy("Show in the coupon centre (otherwise only through its link)"), required=False, initial=True
    )
    rule = forms.ChoiceField(label=gettext_lazy("Also given"), choices=CouponRule.choices, required=False)

    def __init__(self, *args, categories=(), products=(), live_only=False, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "category_ids").choices = [(str(c.pk), c.name) for c in categories]
        product_choices = [(str(p.pk), p.name) for p in products]
        choice_field(self, "product_ids").choices = product_choices
        choice_field(self, "excluded_product_ids").choices = product_choices
        for name, kinds in KIND_FIELDS.items():
            self.fields[name].widget.attrs["data-kinds"] = kinds
        if live_only:  # a running coupon keeps what its grants promised
            for name, field in self.fields.items():
                field.disabled = name not in services.LIVE_FIELDS

    def service_data(self) -> dict:
        """The cleaned form as the service takes it (fen, basis points, id lists)."""
        data = dict(self.cleaned_data)
        for name in YUAN_FIELDS:
            data[name] = parse_yuan(data[name], field=name) if data.get(name) else 0
        percent = data.pop("percent_off", "")
        data["percent_off_bp"] = parse_yuan(percent, field="percent_off") if percent else 0
        for name in ("category_ids", "product_ids", "excluded_product_ids"):
            data[name] = [int(v) for v in data.get(name) or []]
        return data


def coupon_initial(coupon: Coupon) -> dict:
    initial = {name: getattr(coupon, name) for name in CouponForm.base_fields if hasattr(coupon, name)}
    for name in YUAN_FIELDS:
        initial[name] = format_yuan(getattr(coupon, name)) if getattr(coupon, name) else ""
    initial["percent_off"] = f"{coupon.percent_off_bp / 100:g}" if coupon.percent_off_bp else ""
    for name in ("category_ids", "product_ids", "excluded_product_ids"):
        initial[name] = [str(v) for v in getattr(coupon, name) or []]
    return initial


def coupon_terms(coupon: Coupon) -> str:
    """What the coupon gives, in the seller's words: "满¥100.00减¥20.00", "15% off, at most ¥30.00"."""
    if coupon.kind == CouponKind.FREE_SHIPPING:
        text = _("Free shipping")
    elif coupon.kind == CouponKind.PERCENT_OFF:
        text = _("%(rate)s%% off") % {"rate": f"{coupon.percent_off_bp / 100:g}"}
        if coupon.max_off:
            text = _("%(what)s, at most ¥%(cap)s") % {"what": text, "cap": format_yuan(coupon.max_off)}
    else:
        text = _("¥%(amount)s off") % {"amount": format_yuan(coupon.amount_off)}
    if coupon.min_spend:
        text = _("Spend ¥%(spend)s: %(what)s") % {"spend": format_yuan(coupon.min_spend), "what": text}
    return text


def _form_error(form: CouponForm, exc: DomainError) -> None:
    """Put a service refusal on the form, in the form's terms: the services count a percent in
    basis points where the form asks for a percentage."""
    if isinstance(exc.detail, dict):
        detail = {k: v for k, v in exc.detail.items() if k != "percent_off_bp"}
        if "percent_off_bp" in exc.detail:
            detail["percent_off"] = _("Enter 0.01 to 99.99.")
        exc.detail = {k: _("Enter more than 0.") if v == "more than 0" else v for k, v in detail.items()}
    form_error(form, exc)


def _form(request, data=None, *, coupon: Coupon | None = None) -> CouponForm:
    choices = selectors.scope_choices(shop=request.shop)
    live_only = coupon is not None and coupon.status == CouponStatus.ACTIVE
    return CouponForm(
        data,
        initial=coupon_initial(coupon) if coupon else None,
        categories=choices.categories,
        products=choices.products,
        live_only=live_only,
    )


# --- list ----------------------------------------------------------------------------------


@staff_required(perm=VIEW)
@require_GET
def coupons(request):
    """Every coupon with its status, given out / total, used, and its results."""
    status = request.GET.get("status", "")
    status = status if status in CouponStatus.values else ""
    rows = paged(request, selectors.coupons_for_staff(actor=request.staff, shop=request.shop, status=status))
    found = rows.rows
    results = promotion_results_many(shop=request.shop, kind="coupon", refs=[c.public_id for c in found])
    return page(
        request,
        "console/coupons/list.html",
        {
            "paged": rows,
            "rows": [{"coupon": c, "terms": coupon_terms(c), "results": results[c.public_id]} for c in found],
            "status": status,
            "statuses": CouponStatus.choices,
        },
    )


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def coupon_new(request):
    if request.method != "POST":
        return _form_page(request, _form(request))
    form = _form(request, request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    try:
        coupon = services.coupon_create(actor=request.staff, shop=request.shop, data=form.service_data())
    except DomainError as exc:
        _form_error(form, exc)
        return _form_page(request, form, status=error_status(exc))
    messages.success(request, _("Coupon saved as a draft. Start it to give it out."))
    return redirect("console:coupon", coupon.public_id)


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def coupon_edit(request, public_id: str):
    """A draft changes freely; a running coupon only its name, visibility, quantities and rule."""
    coupon = selectors.coupon_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    if coupon.status == CouponStatus.ENDED:
        messages.error(request, _("An ended coupon cannot be changed."))
        return redirect("console:coupon", coupon.public_id)
    if request.method != "POST":
        return _form_page(request, _form(request, coupon=coupon), coupon=coupon)
    form = _form(request, request.POST, coupon=coupon)
    if not form.is_valid():
        return _form_page(request, form, coupon=coupon, status=400)
    data = form.service_data()
    if coupon.status == CouponStatus.ACTIVE:
        data = {name: data[name] for name in services.LIVE_FIELDS}
    try:
        services.coupon_update(actor=request.staff, coupon=coupon, data=data)
    except DomainError as exc:
        _form_error(form, exc)
        return _form_page(request, form, coupon=coupon, status=error_status(exc))
    messages.success(request, _("Coupon saved."))
    return redirect("console:coupon", coupon.public_id)


def _form_page(request, form: CouponForm, *, coupon: Coupon | None = None, status: int = 200):
    return page(request, "console/coupons/form.html", {"form": form, "coupon": coupon}, status=status)


# --- one coupon ----------------------------------------------------------------------------


@staff_required(perm=VIEW)
@require_GET
def coupon_detail(request, public_id: str):
    """Its terms, results (orders, revenue, discount, new vs returning), pushes and grants."""
    coupon = selectors.coupon_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    pushes = selectors.pushes_of_coupon(coupon=coupon)
    grants = paged(request, selectors.grants_of_coupon(coupon=coupon), param="grants_page")
    claim_url = request.build_absolute_uri(reverse("storefront:coupon", args=[coupon.public_id]))
    return page(
        request,
        "console/coupons/detail.html",
        {
            "coupon": coupon,
            "terms": coupon_terms(coupon),
            "status_label": services.COUPON_STATES.label(coupon.status),
            "results": promotion_results(shop=request.shop, kind="coupon", ref=coupon.public_id),
            "pushes": pushes,
            "pushing": any(p.status in (PushStatus.QUEUED, PushStatus.RUNNING) for p in pushes),
            "segments": selectors.push_segments(shop=request.shop) if coupon.status == CouponStatus.ACTIVE else [],
            "grants": grants,
            "claim_url": claim_url,
        },
    )


@staff_required(perm=VIEW)
@require_POST
def coupon_action(request, public_id: str):
    """Start, end (with or without voiding the unused grants) or push to a saved segment."""
    coupon = selectors.coupon_for_staff(actor=request.staff, shop=request.shop, public_id=public_id)
    action = request.POST.get("action", "")
    try:
        if action == "start":
            services.coupon_activate(actor=request.staff, coupon=coupon)
            messages.success(request, _("Started: shoppers can claim it now."))
        elif action in ("end", "end_void"):
            services.coupon_end(actor=request.staff, coupon=coupon, void_grants=action == "end_void")
            messages.success(request, _("Ended: no more claims."))
        elif action == "push":
            segment = str(request.POST.get("segment", ""))[:20]
            if not segment.isdigit():
                raise InvalidInput(_("Choose a segment."), detail={"segment": "required"})
            coupon_grants.coupon_push_start(actor=request.staff, coupon=coupon, segment_id=int(segment))
            messages.success(request, _("Giving the coupon to the segment's members; progress is shown below."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.message)
    return redirect("console:coupon", coupon.public_id)
