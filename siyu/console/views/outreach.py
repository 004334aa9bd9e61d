"""Campaigns in the console: the list with progress, the form (segment, channel, up to four
variants, holdout, schedule, coupon, link target), a campaign's page with progress and results
(per variant and control, uplift with 95% intervals, ROI with its formula, a bar chart), and the
actions start, cancel and delete. Pages need promotions.view; the services check
promotions.manage for every change."""

from typing import cast

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from siyu.analytics.charts import PALETTE, Series, bar_chart
from siyu.campaigns.outreach import selectors, services
from siyu.campaigns.outreach.models import CampaignStatus, CampaignTarget
from siyu.campaigns.outreach.results import campaign_results
from siyu.core.errors import DomainError, NotFound
from siyu.customers.models import Segment
from siyu.promotions.coupons.models import Coupon, CouponStatus

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

VIEW = "promotions.view"
CHANNEL_LABELS = {
    "log": gettext_lazy("Log (development)"),
    "sms": gettext_lazy("SMS"),
    "email": gettext_lazy("Email"),
    "wecom": gettext_lazy("WeCom customer contact"),
    "wechat_oa": gettext_lazy("WeChat Official Account"),
}
_DATETIME = {"type": "datetime-local"}
_TEXT_HELP = gettext_lazy("Merge fields: {name}, {points}, {link} (the tracked link; added at the end if not placed).")


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Campaign name"), max_length=60)
    segment = forms.ChoiceField(label=gettext_lazy("Audience (saved segment)"))
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), choices=list(CHANNEL_LABELS.items()))
    holdout_percent = forms.DecimalField(
        label=gettext_lazy("Control group (percent)"),
        initial=10,
        min_value=0,
        max_value=50,
        decimal_places=2,
        help_text=gettext_lazy("Chosen at random and never messaged, to measure what the campaign changed."),
    )
    text_a = forms.CharField(
        label=gettext_lazy("Variant A"), max_length=500, widget=forms.Textarea, help_text=_TEXT_HELP
    )
    text_b = forms.CharField(label=gettext_lazy("Variant B"), max_length=500, widget=forms.Textarea, required=False)
    text_c = forms.CharField(label=gettext_lazy("Variant C"), max_length=500, widget=forms.Textarea, required=False)
    text_d = forms.CharField(label=gettext_lazy("Variant D"), max_length=500, widget=forms.Textarea, required=False)
    subject = forms.CharField(label=gettext_lazy("Email subject"), max_length=80, required=False)
    target = forms.ChoiceField(label=gettext_lazy("The link opens"), choices=CampaignTarget.choices)
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
    scheduled_at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs=_DATETIME),
        help_text=gettext_lazy("Empty: when you start it."),
    )

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["segment"]).choices = [
            (s.pk, f"{s.name} ({s.member_count})") for s in Segment.objects.filter(shop=shop).order_by("name")
        ]
        coupons = Coupon.objects.filter(shop=shop).exclude(status=CouponStatus.ENDED).order_by("-id")[:100]
        cast(forms.ChoiceField, self.fields["coupon"]).choices = [("", _("No coupon"))] + [
            (c.public_id, c.name) for c in coupons
        ]

    def data_for_service(self) -> dict:
        d = self.cleaned_data
        texts = [d[f"text_{x}"] for x in "abcd" if d.get(f"text_{x}")]
        return {
            "name": d["name"],
            "segment": d["segment"],
            "channel": d["channel"],
            "holdout_bp": int(d["holdout_percent"] * 100),
            "variants": [{"text": t, "subject": d["subject"]} for t in texts],
            "target": d["target"],
            "target_ref": d["target_ref"],
            "coupon": d["coupon"],
            "attribution_days": d["attribution_days"],
            "margin_bp": int(d["margin_percent"] * 100),
            "scheduled_at": d["scheduled_at"],
        }


@staff_required(perm=VIEW)
def campaign_list(request):
    wanted = request.GET.get("status") or ""
    if wanted not in CampaignStatus.values:
        wanted = ""
    rows = selectors.campaigns_of(actor=request.staff, shop=request.shop, status=wanted or None)
    context = {"campaigns": paged(request, rows), "statuses": CampaignStatus.choices, "wanted": wanted}
    return page(request, "console/outreach/list.html", context)


@staff_required(perm=VIEW)
@require_http_methods(["GET", "POST"])
def campaign_new(request):
    form = CampaignForm(request.POST or None, shop=request.shop)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                campaign = services.campaign_create(
                    actor=request.staff, shop=request.shop, data=form.data_for_service()
                )
            except NotFound as exc:  # a product id or a choice that is gone: the form can fix it
                for key, value in (exc.detail if isinstance(exc.detail, dict) else {}).items():
                    form.add_error(key if key in form.fields else None, f"{exc.message} ({value})")
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The campaign is saved as a draft. Start it when it is ready."))
                return redirect("console:campaign_detail", public_id=campaign.public_id)
    return page(request, "console/outreach/form.html", {"form": form}, status=status)


def _chart(result):
    labels = [str(_("Control")) if g.key == "control" else g.label for g in result.groups]
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


def _yuan(fen: float) -> str:
    """Display only (statistics are floats): fen to "¥12.34", with the sign."""
    return f"{'-' if fen < 0 else ''}¥{abs(fen) / 100:,.2f}"


def _interval(iv, fmt) -> str:
    if iv is None:
        return "—"
    return f"{fmt(iv.diff)} [{fmt(iv.low)}, {fmt(iv.high)}]" + (" ✓" if iv.significant else "")


def _points(share: float) -> str:
    return f"{share * 100:+.2f} pp"


def _row(g) -> dict:
    return {
        "key": g.key,
        "recipients": g.recipients,
        "delivered": g.delivered,
        "clicked": g.clicked,
        "ordered": g.ordered,
        "revenue": _yuan(g.revenue),
        "conversion": f"{g.conversion * 100:.2f}%",
        "per_recipient": _yuan(g.revenue_per_recipient),
        "conversion_uplift": _interval(g.conversion_uplift, _points),
        "revenue_uplift": _interval(g.revenue_uplift, _yuan),
    }


@staff_required(perm=VIEW)
def campaign_detail(request, public_id: str):
    campaign = selectors.campaign_get(actor=request.staff, shop=request.shop, public_id=public_id)
    result = campaign_results(campaign=campaign)
    context = {
        "campaign": campaign,
        "variants": campaign.variants.all(),
        "channel_label": CHANNEL_LABELS.get(campaign.channel, campaign.channel),
        "pending": selectors.campaign_pending(campaign),
        "result": result,
        "chart": _chart(result) if result.window else None,
        "holdout_percent": campaign.holdout_bp / 100,
        "margin_percent": result.margin_bp / 100,
        "rows": [_row(g) for g in [*result.groups, result.treatment] if g is not None],
        "incremental_profit": _yuan(result.incremental_profit),
        "discounts": _yuan(result.discounts),
        "message_cost": _yuan(result.message_cost),
    }
    return page(request, "console/outreach/detail.html", context)


@staff_required(perm=VIEW)
@require_POST
def campaign_action(request, public_id: str, action: str):
    """start, cancel or delete (the services check promotions.manage)."""
    kwargs = {"actor": request.staff, "shop": request.shop, "public_id": public_id}
    try:
        if action == "start":
            services.campaign_start(**kwargs)
            messages.success(request, _("The campaign is scheduled; the worker prepares and sends it."))
        elif action == "cancel":
            services.campaign_cancel(**kwargs, why=str(request.POST.get("why") or "")[:300])
            messages.success(request, _("The campaign is cancelled; nothing more is sent."))
        elif action == "delete":
            services.campaign_delete(**kwargs)
            messages.success(request, _("The draft is deleted."))
            return redirect("console:campaigns")
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    return redirect("console:campaign_detail", public_id=public_id)
