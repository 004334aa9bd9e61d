"""Console pages for bargains: campaigns (list with results, create, edit, end) and each
campaign's bargains with flagged helps. Thin: a form, one service, a message."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError
from siyu.core.money import format_yuan, parse_yuan
from siyu.distribution import trace as trace_reads
from siyu.promotions.bargains import campaigns as campaign_services
from siyu.promotions.bargains.campaigns import live_campaigns_refresh
from siyu.promotions.bargains.models import MAX_HELPS, MAX_HOURS, MIN_HELPS
from siyu.promotions.bargains.selectors import bargains_of_campaign, campaign_for_staff, campaigns_for_staff
from siyu.promotions.results import promotion_results, promotion_results_many

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

VIEW, MANAGE = "promotions.view", "promotions.manage"
WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CampaignForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    sku_id = forms.ChoiceField(label=gettext_lazy("Item"))
    floor_price = forms.CharField(label=gettext_lazy("Lowest price (yuan)"), max_length=12)
    helps_needed = forms.IntegerField(label=gettext_lazy("Helps needed"), min_value=MIN_HELPS, max_value=MAX_HELPS)
    hours = forms.IntegerField(label=gettext_lazy("Hours per bargain"), min_value=1, max_value=MAX_HOURS, initial=24)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=WHEN)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=WHEN)
    stock_cap = forms.IntegerField(label=gettext_lazy("How many may buy"), min_value=1, max_value=1_000_000)
    buy_at_current = forms.BooleanField(
        label=gettext_lazy("May buy before the lowest price is reached"), required=False
    )

    def __init__(self, *args, skus=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sku_id"].choices = [  # type: ignore[attr-defined]  # a ChoiceField
            (str(s.pk), f"{s.product.name} {s.label} (¥{format_yuan(s.price)})".strip()) for s in skus
        ]
        if editing:
            self.fields["sku_id"].disabled = True

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["floor_price"] = parse_yuan(data["floor_price"], field="floor_price")
        return data


def _skus(request) -> list:
    return [sku for product in trace_reads.trace_targets(shop=request.shop) for sku in product.skus.all()]


@staff_required(perm=VIEW)
def campaign_list(request):
    campaigns = list(campaigns_for_staff(shop=request.shop))
    results = promotion_results_many(shop=request.shop, kind="bargain", refs=[c.public_id for c in campaigns])
    live_campaigns_refresh(shop_id=request.shop.pk)  # the storefront panels read this entry only
    rows = [{"campaign": c, "results": results[c.public_id]} for c in campaigns]
    return page(request, "console/bargains/campaigns.html", {"rows": rows, "now": timezone.now()})


def _edit_page(request, *, form, campaign=None, status: int = 200):
    return page(request, "console/bargains/campaign_edit.html", {"form": form, "campaign": campaign}, status=status)


@staff_required(perm=MANAGE)
def campaign_new(request):
    skus = _skus(request)
    if request.method != "POST":
        now = timezone.localtime().replace(second=0, microsecond=0)
        initial = {"starts_at": now, "ends_at": now + timedelta(days=7), "helps_needed": 5, "stock_cap": 100}
        return _edit_page(request, form=CampaignForm(skus=skus, initial=initial))
    form = CampaignForm(request.POST, skus=skus)
    if not form.is_valid():
        return _edit_page(request, form=form, status=400)
    try:
        made = campaign_services.campaign_create(actor=request.staff, shop=request.shop, data=form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return _edit_page(request, form=form, status=error_status(exc))
    messages.success(request, _("The bargain campaign is saved."))
    return redirect("console:bargain_campaign", made.public_id)


@staff_required(perm=VIEW)
def campaign_detail(request, public_id: str):
    campaign = campaign_for_staff(shop=request.shop, public_id=public_id)
    form = None
    if request.method == "POST":
        if not request.staff.can(MANAGE):
            return redirect("console:bargain_campaign", public_id)
        form = CampaignForm(request.POST, skus=[campaign.sku], editing=True, initial={"sku_id": str(campaign.sku_id)})
        if form.is_valid():
            try:
                campaign_services.campaign_update(actor=request.staff, campaign=campaign, data=form.service_data())
                messages.success(request, _("The bargain campaign is saved."))
                return redirect("console:bargain_campaign", public_id)
            except DomainError as exc:
                form_error(form, exc)
    if form is None:
        initial = {f: getattr(campaign, f) for f in campaign_services.FIELDS} | {"sku_id": str(campaign.sku_id)}
        initial["floor_price"] = format_yuan(campaign.floor_price)
        initial["starts_at"] = timezone.localtime(campaign.starts_at)
        initial["ends_at"] = timezone.localtime(campaign.ends_at)
        form = CampaignForm(skus=[campaign.sku], editing=True, initial=initial)
    context = {
        "campaign": campaign,
        "form": form,
        "results": promotion_results(shop=request.shop, kind="bargain", ref=campaign.public_id),
        "paged": paged(request, bargains_of_campaign(campaign=campaign), per_page=50),
    }
    return page(request, "console/bargains/campaign.html", context, status=400 if form.errors else 200)


@staff_required(perm=MANAGE)
@require_POST
def campaign_end(request, public_id: str):
    campaign = campaign_for_staff(shop=request.shop, public_id=public_id)
    campaign_services.campaign_end(actor=request.staff, campaign=campaign)
    messages.success(request, _("The bargain campaign has ended."))
    return redirect("console:bargain_campaign", public_id)
