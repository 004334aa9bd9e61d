"""Group buys (拼团) in the console: campaigns with their groups and results, create, edit, stop.

The services hold every rule and check every permission (promotions.manage to change); the list
and detail pages need promotions.view, the form and the stop button promotions.manage. The form
only turns what a person types (yuan, one price field per SKU of the chosen product) into the
service's data.
"""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from siyu.catalog.models import Product, ProductStatus, Sku
from siyu.core.errors import DomainError, NotFound
from siyu.core.money import format_yuan, parse_yuan
from siyu.promotions.groupbuys import campaigns as services
from siyu.promotions.groupbuys import selectors
from siyu.promotions.groupbuys.models import GroupBuy, GroupStatus
from siyu.promotions.results import promotion_results, promotion_results_many

from ..decorators import staff_required
from ..paging import paged
from ..rendering import error_status, form_error, page

VIEW, MANAGE = "promotions.view", "promotions.manage"
KIND = "group_buy"
WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
MAX_PRODUCT_CHOICES = 500
CAMPAIGN_STATUSES = [
    ("running", gettext_lazy("Running")),
    ("scheduled", gettext_lazy("Scheduled")),
    ("ended", gettext_lazy("Ended or stopped")),
]


class GroupBuyForm(forms.Form):
    """The campaign's settings, and a group price (yuan) per SKU of its product: a blank price
    leaves that SKU out of the group buy."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    group_size = forms.IntegerField(label=gettext_lazy("People per group"), min_value=2, max_value=50, initial=2)
    hours = forms.IntegerField(
        label=gettext_lazy("Hours a group has to form"),
        min_value=1,
        max_value=720,
        initial=24,
        help_text=gettext_lazy("A group not full by then fails, and every member is refunded automatically."),
    )
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=WHEN)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=WHEN)
    per_customer_limit = forms.IntegerField(
        label=gettext_lazy("Units per customer"), min_value=1, max_value=99, initial=1
    )
    auto_fill = forms.BooleanField(
        label=gettext_lazy("Auto-fill groups short at their deadline"),
        required=False,
        help_text=gettext_lazy(
            "Warning: a group that is not full at its deadline is completed with virtual members, so the "
            "people who paid get their goods. Virtual members are not people: they pay nothing, and the "
            "group page and this console show them as virtual members."
        ),
    )

    def __init__(self, *args, skus: list[Sku], **kwargs):
        super().__init__(*args, **kwargs)
        self.skus = skus
        for sku in skus:
            label = f"{sku.label or sku.product.name} (¥{format_yuan(sku.price)})"
            self.fields[f"price_{sku.pk}"] = forms.CharField(
                label=_("Group price of %(sku)s, yuan") % {"sku": label}, max_length=12, required=False
            )

    def clean(self):
        cleaned = super().clean() or {}
        if not any((cleaned.get(f"price_{s.pk}") or "").strip() for s in self.skus):
            raise forms.ValidationError(_("Set a group price for at least one SKU."))
        return cleaned

    def service_data(self) -> dict:
        d = self.cleaned_data
        prices = {}
        for sku in self.skus:
            text = (d.get(f"price_{sku.pk}") or "").strip()
            if text:
                prices[sku.pk] = parse_yuan(text, field=f"price_{sku.pk}")
        fields = ("name", "group_size", "hours", "starts_at", "ends_at", "per_customer_limit", "auto_fill")
        return {**{k: d[k] for k in fields}, "prices": prices}


def _initial(campaign: GroupBuy) -> dict:
    fields = ("name", "group_size", "hours", "starts_at", "ends_at", "per_customer_limit", "auto_fill")
    initial = {k: getattr(campaign, k) for k in fields}
    for price in campaign.prices.all():
        initial[f"price_{price.sku_id}"] = format_yuan(price.group_price)
    return initial


def _skus_of(product: Product) -> list[Sku]:
    return list(Sku.objects.filter(shop_id=product.shop_id, product=product).select_related("product").order_by("id"))


# --- the list ------------------------------------------------------------------------------


@staff_required(perm=VIEW)
def group_buys(request):
    """Campaigns, newest first: status, groups open / formed / failed, and results."""
    wanted = request.GET.get("status", "")
    rows = paged(request, selectors.campaigns_with_group_counts(shop=request.shop, status=wanted))
    campaigns = rows.rows
    results = promotion_results_many(shop=request.shop, kind=KIND, refs=[c.public_id for c in campaigns])
    context = {
        "paged": rows,
        "rows": [
            {"campaign": c, "status": selectors.campaign_status(c), "results": results[c.public_id]} for c in campaigns
        ],
        "status": wanted,
        "statuses": CAMPAIGN_STATUSES,
    }
    return page(request, "console/groupbuys/list.html", context)


# --- create and edit -----------------------------------------------------------------------


def _form_page(request, *, product: Product, campaign: GroupBuy | None):
    skus = _skus_of(product)
    data = request.POST if request.method == "POST" else None
    form = GroupBuyForm(data, skus=skus, initial=_initial(campaign) if campaign else None)
    status = 200
    if data is not None:
        if form.is_valid():
            try:
                saved = _save(request, form=form, product=product, campaign=campaign)
            except DomainError as exc:
                form_error(form, exc)
                status = error_status(exc)
            else:
                messages.success(request, _("The group buy %(name)s is saved.") % {"name": saved.name})
                return redirect("console:group_buy", saved.public_id)
        else:
            status = 400
    context = {"form": form, "product": product, "campaign": campaign}
    return page(request, "console/groupbuys/edit.html", context, status=status)


def _save(request, *, form: GroupBuyForm, product: Product, campaign: GroupBuy | None) -> GroupBuy:
    data = form.service_data()
    if campaign is None:
        return services.groupbuy_create(
            actor=request.staff, shop=request.shop, data={**data, "product": product.public_id}
        )
    return services.groupbuy_update(actor=request.staff, shop=request.shop, public_id=campaign.public_id, data=data)


@staff_required(perm=MANAGE)
@require_http_methods(["GET", "POST"])
def group_buy_new(request):
    """Pick a product (`?product=<public id>`), then set the group prices of its SKUs."""
    wanted = request.GET.get("product", "")
    if not wanted:
        products = (
            Product.objects.filter(shop=request.shop, status=ProductStatus.ON_SALE)
            .order_by("-id")
            .values_list("public_id", "name")[:MAX_PRODUCT_CHOICES]
        )
        return page(request, "console/groupbuys/pick.html", {"products": list(products)})
    product = Product.objects.filter(shop=request.shop, public_id=wanted[:20]).first()
    if product is None:
        raise NotFound(detail={"product": wanted[:20]})
    return _form_page(request, product=product, campaign=None)


@staff_required(perm=MANAGE)
@require_http_methods(["GET", "POST"])
def group_buy_edit(request, campaign_id: str):
    campaign = selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)
    return _form_page(request, product=campaign.product, campaign=campaign)


@staff_required(perm=MANAGE)
@require_POST
def group_buy_stop(request, campaign_id: str):
    """No new groups and no new joiners; open groups run to their deadline."""
    campaign = services.groupbuy_stop(actor=request.staff, shop=request.shop, public_id=campaign_id)
    messages.success(request, _("%(name)s is stopped; open groups run to their deadline.") % {"name": campaign.name})
    return redirect("console:group_buy", campaign_id)


# --- one campaign --------------------------------------------------------------------------


@staff_required(perm=VIEW)
def group_buy(request, campaign_id: str):
    """The campaign: its prices, results and groups (members, status, deadline; virtual members marked)."""
    campaign = selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)
    wanted = request.GET.get("status", "")
    groups = paged(
        request, selectors.groups_with_members_for_staff(shop=request.shop, campaign=campaign, status=wanted)
    )
    context = {
        "campaign": campaign,
        "campaign_status": selectors.campaign_status(campaign),
        "prices": list(campaign.prices.all()),
        "results": promotion_results(shop=request.shop, kind=KIND, ref=campaign.public_id),
        "paged": groups,
        "status": wanted,
        "statuses": GroupStatus.choices,
    }
    return page(request, "console/groupbuys/detail.html", context)
