"""Journeys in the console: the list with each journey's key figures (a shop's first visit finds the
default set, switched off), the form (trigger, delay, channel, up to four variants, holdout,
coupon, link target), a journey's page with its results (per variant and holdout, uplift with 95%
intervals, ROI with its formula, a bar chart), and the actions switch on and pause. Pages need
promotions.view; the services check promotions.manage for every change."""

from typing import cast

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from siyu.analytics.charts import PALETTE, Series, bar_chart
from siyu.campaigns.journeys import selectors, services
from siyu.campaigns.journeys.models import JourneyKind, JourneyTarget
from siyu.campaigns.journeys.results import journey_results
from siyu.core.errors import DomainError, NotFound
from siyu.promotions.coupons.models import Coupon, CouponStatus

from ..decorators import staff_required
from ..rendering import error_status, form_error, page
from .outreach import CHANNEL_LABELS, _row, _yuan

VIEW = "promotions.view"
_TEXT_HELP = gettext_lazy(
    "Merge fields: {name}, {shop}, {product} (the cart's or the reminded product), "
    "{link} (the tracked link; added at the end if not placed)."
)
DELAY_HELP = {
    JourneyKind.WELCOME: gettext_lazy("Hours after the customer joins."),
    JourneyKind.SECOND_ORDER: gettext_lazy("Hours after a first order with no second one (336 = 14 days)."),
    JourneyKind.WINBACK: gettext_lazy("Not used: customers are enrolled when they become at risk or dormant."),
    JourneyKind.BIRTHDAY: gettext_lazy("Hours after midnight on the birthday."),
    JourneyKind.ABANDONED_CART: gettext_lazy("Hours the cart stays untouched with no order."),
    JourneyKind.REPURCHASE: gettext_lazy("Not used: the product's consumption cycle decides."),
}


class JourneyForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Journey name"), max_length=60)
    kind = forms.ChoiceField(label=gettext_lazy("Trigger"), choices=JourneyKind.choices)
    delay_hours = forms.IntegerField(
        label=gettext_lazy("Delay (hours)"), initial=0, min_value=0, max_value=services.MAX_DELAY_HOURS
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=list(CHANNEL_LABELS.items()))
    holdout_percent = forms.DecimalField(
        label=gettext_lazy("Holdout (percent)"),
        initial=10,
        min_value=0,
        max_value=50,
        decimal_places=2,
        help_text=gettext_lazy(
            "Chosen at random at enrolment and never messaged, to measure what the journey changed."
        ),
    )
    text_a = forms.CharField(
        label=gettext_lazy("Variant A"), max_length=500, widget=forms.Textarea, help_text=_TEXT_HELP
    )
    text_b = forms.CharField(label=gettext_lazy("Variant B"), max_length=500, widget=forms.Textarea, required=False)
    text_c = forms.CharField(label=gettext_lazy("Variant C"), max_length=500, widget=forms.Textarea, required=False)
    text_d = forms.CharField(label=gettext_lazy("Variant D"), max_length=500, widget=forms.Textarea, required=False)
    subject = forms.CharField(label=gettext_lazy("Email subject"), max_length=80, required=False)
    target = forms.ChoiceField(label=gettext_lazy("The link opens"), choices=JourneyTarget.choices)
    target_ref = forms.CharField(label=gettext_lazy("Product id (for a product page)"), max_length=20, required=False)
    coupon = forms.ChoiceField(label=gettext_lazy("Coupon given to the messaged"), required=False)
    attribution_days = forms.IntegerField(
        label=gettext_lazy("Attribution window (days)"), initial=7, min_value=1, max_value=60
    )
    margin_percent = forms.DecimalField(
        label=gettext_lazy("Margin where no cost price is known (percent)"),
        initial=30,
        min_value=0,
        max_value=100,
        decimal_places=2,
    )

    def __init__(self, *args, shop, journey=None, **kwargs):
        super().__init__(*args, **kwargs)
        coupons = Coupon.objects.filter(shop=shop).exclude(status=CouponStatus.ENDED).order_by("-id")[:100]
        cast(forms.ChoiceField, self.fields["coupon"]).choices = [("", _("No coupon"))] + [
            (c.public_id, c.name) for c in coupons
        ]
        if journey is not None:  # a journey's trigger never changes
            del self.fields["kind"]
            self.fields["delay_hours"].help_text = DELAY_HELP[JourneyKind(journey.kind)]

    def data_for_service(self) -> dict:
        d = self.cleaned_data
        texts = [d[f"text_{x}"] for x in "abcd" if d.get(f"text_{x}")]
        return {
            "name": d["name"],
            "kind": d.get("kind", ""),
            "delay_hours": d["delay_hours"],
            "channel": d["channel"],
            "holdout_bp": int(d["holdout_percent"] * 100),
            "variants": [{"text": t, "subject": d["subject"]} for t in texts],
            "target": d["target"],
            "target_ref": d["target_ref"],
            "coupon": d["coupon"],
            "attribution_days": d["attribution_days"],
            "margin_bp": int(d["margin_percent"] * 100),
        }


def _initial(journey) -> dict:
    variants = list(journey.variants.all())
    initial = {
        "name": journey.name,
        "delay_hours": journey.delay_hours,
        "channel": journey.channel,
        "holdout_percent": f"{journey.holdout_bp / 100:g}%",
        "subject": variants[0].subject if variants else "",
        "target": journey.target,
        "target_ref": journey.target_ref,
        "coupon": journey.coupon.public_id if journey.coupon else "",
        "attribution_days": journey.attribution_days,
        "margin_percent": journey.margin_bp / 100,
    }
    for v in variants:
        initial[f"text_{'abcd'[v.index]}"] = v.text
    return initial


@staff_required(perm=VIEW)
def journey_list(request):
    if request.staff.can(services.MANAGE):
        services.journeys_seed(shop=request.shop)
    rows = list(selectors.with_variants(selectors.journeys_of(actor=request.staff, shop=request.shop)))
    return page(request, "console/journeys/list.html", {"journeys": rows, "delay_help": DELAY_HELP})


def _save(request, form, journey=None):
    """Call the service for a valid form; the journey, or None with the error put on the form."""
    data = form.data_for_service()
    try:
        if journey is None:
            return services.journey_create(actor=request.staff, shop=request.shop, data=data)
        return services.journey_update(actor=request.staff, shop=request.shop, public_id=journey.public_id, data=data)
    except NotFound as exc:  # a product id or a coupon that is gone: the form can fix it
        if exc.detail and isinstance(exc.detail, dict) and set(exc.detail) & {"target_ref", "coupon"}:
            for key, value in exc.detail.items():
                form.add_error(key if key in form.fields else None, f"{exc.message} ({value})")
            return None
        raise


def _form_page(request, journey=None):
    form = JourneyForm(
        request.POST or None,
        shop=request.shop,
        journey=journey,
        initial=_initial(journey) if journey is not None and request.method != "POST" else None,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                saved = _save(request, form, journey)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                if saved is not None:
                    messages.success(request, _("The journey is saved."))
                    return redirect("console:journey_detail", public_id=saved.public_id)
    context = {"form": form, "journey": journey}
    return page(request, "console/journeys/form.html", context, status=status)


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def journey_new(request):
    return _form_page(request)


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def journey_edit(request, public_id: str):
    journey = selectors.journey_get(actor=request.staff, shop=request.shop, public_id=public_id)
    return _form_page(request, journey)


def _chart(result):
    labels = [str(_("Holdout")) if g.key == "holdout" else g.label for g in result.groups]
    return bar_chart(
        labels,
        [
            Series(str(_("Conversion (%)")), [round(g.conversion * 100, 2) for g in result.groups], PALETTE[0]),
            Series(
                str(_("Click rate (%)")),
                [round(g.clicked * 100 / (g.recipients or 1), 2) for g in result.groups],
                PALETTE[1],
            ),
        ],
        label=str(_("Conversion and clicks by group")),
        height=200,
    )


@staff_required(perm=VIEW)
def journey_detail(request, public_id: str):
    journey = selectors.journey_get(actor=request.staff, shop=request.shop, public_id=public_id)
    result = journey_results(journey=journey)
    enrolled = sum(g.recipients for g in result.groups)
    context = {
        "journey": journey,
        "variants": journey.variants.all(),
        "channel_label": CHANNEL_LABELS.get(journey.channel, journey.channel),
        "delay_help": DELAY_HELP[JourneyKind(journey.kind)],
        "result": result,
        "chart": _chart(result) if enrolled else None,
        "holdout_percent": f"{journey.holdout_bp / 100:g}%",
        "margin_percent": result.margin_bp / 100,
        "rows": [_row(g) for g in [*result.groups, result.treatment] if g is not None],
        "incremental_profit": _yuan(result.incremental_profit),
        "discounts": _yuan(result.discounts),
        "message_cost": _yuan(result.message_cost),
    }
    return page(request, "console/journeys/detail.html", context)


@staff_required(perm=VIEW)
@require_POST
def journey_action(request, public_id: str, action: str):
    """activate or pause (the services check promotions.manage)."""
    kwargs = {"actor": request.staff, "shop": request.shop, "public_id": public_id}
    try:
        if action == "activate":
            services.journey_activate(**kwargs)
            messages.success(
                request, _("The journey is on: the worker enrols and messages customers as they become due.")
            )
        elif action == "pause":
            services.journey_pause(**kwargs)
            messages.success(request, _("The journey is paused: nobody new is enrolled and nothing more is sent."))
        else:
            raise NotFound(_("This action does not exist."), detail={"action": action[:20]})
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    return redirect("console:journey_detail", public_id=public_id)
