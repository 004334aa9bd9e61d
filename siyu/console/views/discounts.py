"""Console pages for discounts: 满减 / 满折 activities and limited-time discounts (list with results,
create, edit, end) and the member-price matrix of a product. The services hold every rule; the
forms only turn what a person types (yuan, percentages, one tier or item per line) into their data."""

from decimal import Decimal, InvalidOperation
from typing import cast

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from siyu.catalog.models import Category, Product, Sku
from siyu.core.errors import DomainError
from siyu.core.money import format_yuan, parse_yuan
from siyu.promotions.discounts import limited, member_prices, selectors, thresholds
from siyu.promotions.discounts.models import MemberPrice, Scope, TierMode
from siyu.promotions.discounts.rules import MANAGE, VIEW, phase
from siyu.promotions.results import promotion_results_many

from ..decorators import staff_required
from ..rendering import error_status, form_error, page

WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
LINES = forms.Textarea(attrs={"rows": 4})


def _pairs(value: str) -> list[tuple[str, str]]:
    """One entry per line, "a, b" or "a b"."""
    pairs = []
    for raw in (value or "").splitlines():
        parts = raw.replace("，", ",").replace(",", " ").split()
        if parts:
            if len(parts) != 2:
                raise forms.ValidationError(_("Write two values on each line."))
            pairs.append((parts[0], parts[1]))
    return pairs


def _products(shop) -> list[tuple[str, str]]:
    return list(Product.objects.filter(shop=shop).order_by("-id").values_list("public_id", "name")[:500])


class ThresholdForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=WHEN)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=WHEN)
    mode = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TierMode.choices)
    tiers = forms.CharField(
        label=gettext_lazy("Tiers"),
        widget=LINES,
        help_text=gettext_lazy(
            "One tier per line: spend (yuan) and save (yuan), e.g. “100 10”; for a share, spend and the "
            "percentage paid, e.g. “200 85” (15 percent off)."
        ),
    )
    repeat = forms.BooleanField(label=gettext_lazy("Repeat for every threshold reached (one tier)"), required=False)
    repeat_cap = forms.CharField(label=gettext_lazy("Most saved when repeating (yuan, blank: no cap)"), required=False)
    scope = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=Scope.choices)
    categories = forms.MultipleChoiceField(label=gettext_lazy("Categories"), required=False)
    products = forms.MultipleChoiceField(label=gettext_lazy("Products"), required=False)
    excluded = forms.MultipleChoiceField(label=gettext_lazy("Never counted"), required=False)
    stacks_with_coupons = forms.BooleanField(label=gettext_lazy("May be combined with coupons"), required=False)

    def __init__(self, *args, shop, **kwargs):
        super().__init__(*args, **kwargs)
        products = _products(shop)
        categories = [(str(pk), name) for pk, name in Category.objects.filter(shop=shop).values_list("pk", "name")]
        for name, choices in (("categories", categories), ("products", products), ("excluded", products)):
            cast(forms.MultipleChoiceField, self.fields[name]).choices = choices

    def service_data(self) -> dict:
        d = self.cleaned_data
        rate = d["mode"] == TierMode.RATE
        tiers = []
        for n, (spend, value) in enumerate(_pairs(d["tiers"])):
            tiers.append(
                {"threshold": parse_yuan(spend, field=f"tiers.{n}.threshold"), "value": _bp(value) if rate else value}
            )
        return {
            "name": d["name"],
            "starts_at": d["starts_at"],
            "ends_at": d["ends_at"],
            "mode": d["mode"],
            "tiers": tiers,
            "repeat": d["repeat"],
            "repeat_cap": d["repeat_cap"] or 0,
            "scope": d["scope"],
            "scope_ids": d["categories"] if d["scope"] == Scope.CATEGORIES else d["products"],
            "excluded_products": d["excluded"],
            "stacks_with_coupons": d["stacks_with_coupons"],
        }

    def clean_tiers(self):
        value = self.cleaned_data["tiers"]
        _pairs(value)
        return value


def _bp(percent: str) -> int | str:
    """ "85" or "85.5" (percent) as basis points; anything else is handed on for the service to refuse."""
    try:
        return int(Decimal(percent) * 100)
    except (InvalidOperation, ValueError):
        return percent


class LimitedForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=40)
    starts_at = forms.DateTimeField(label=gettext_lazy("Starts at"), widget=WHEN)
    ends_at = forms.DateTimeField(label=gettext_lazy("Ends at"), widget=WHEN)
    per_customer_limit = forms.IntegerField(
        label=gettext_lazy("Units per customer at this price (0: no limit)"), min_value=0, max_value=999, initial=0
    )
    items = forms.CharField(
        label=gettext_lazy("Items"),
        widget=LINES,
        help_text=gettext_lazy(
            "One SKU per line: its id and the price in yuan (“12 39.90”) or the percentage off (“12 20%”)."
        ),
    )
    override_reason = forms.CharField(
        label=gettext_lazy("Reason for selling below a minimum advertised price"), max_length=200, required=False
    )

    def clean_items(self):
        value = self.cleaned_data["items"]
        _pairs(value)
        return value

    def service_data(self) -> dict:
        d = self.cleaned_data
        items = []
        for sku, value in _pairs(d["items"]):
            off = value.endswith("%")
            items.append({"sku": sku, "off_bp": _bp(value[:-1])} if off else {"sku": sku, "price": value})
        return {
            **{k: d[k] for k in ("name", "starts_at", "ends_at", "per_customer_limit", "override_reason")},
            "items": items,
        }


# --- the list ------------------------------------------------------------------------------


def _results(shop, kind: str, rows) -> list[dict]:
    found = promotion_results_many(shop=shop, kind=kind, refs=[r.public_id for r in rows])
    return [{"row": r, "phase": phase(r), "results": found.get(r.public_id)} for r in rows]


@staff_required(perm=VIEW)
def discount_list(request):
    shop = request.shop
    activities = list(thresholds.thresholds_of(shop=shop)[:50])
    discounts = list(limited.limiteds_of(shop=shop)[:50])
    priced = list(
        Product.objects.filter(
            shop=shop, pk__in=MemberPrice.objects.filter(shop=shop).values("product_id")
        ).values_list("public_id", "name")[:100]
    )
    context = {
        "activities": _results(shop, "threshold_discount", activities),
        "discounts": _results(shop, limited.KIND, discounts),
        "priced": priced,
        "products": _products(shop),
        "phases": thresholds.PHASE_LABELS,
    }
    return page(request, "console/discounts/list.html", context)


# --- 满减 / 满折 ---------------------------------------------------------------------------


def _threshold_initial(activity) -> dict:
    rate = activity.mode == TierMode.RATE
    tiers = "\n".join(
        f"{format_yuan(t['threshold'])} {format_yuan(t['value']) if not rate else Decimal(t['value']) / 100}"
        for t in activity.tiers
    )
    by_category = activity.scope == Scope.CATEGORIES
    names = selectors.product_names(shop=activity.shop, ids=[*activity.scope_ids, *activity.excluded_ids])
    return {
        "name": activity.name,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "mode": activity.mode,
        "tiers": tiers,
        "repeat": activity.repeat,
        "repeat_cap": format_yuan(activity.repeat_cap) if activity.repeat_cap else "",
        "scope": activity.scope,
        "categories": [str(pk) for pk in activity.scope_ids] if by_category else [],
        "products": [names[pk][0] for pk in activity.scope_ids if pk in names] if not by_category else [],
        "excluded": [names[pk][0] for pk in activity.excluded_ids if pk in names],
        "stacks_with_coupons": activity.stacks_with_coupons,
    }


def _submit(request, form, save, saved_message):
    """A posted create/edit form: (the response to send, or None to show the form again; its status).
    The service checks the permission too; this only answers a refused role with the console's page."""
    if not request.staff.can(MANAGE):
        return page(
            request,
            "console/error.html",
            {"status": 403, "message": _("Your role does not allow this page.")},
            status=403,
        ), 403
    if not form.is_valid():
        return None, 400
    try:
        saved = save(form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return None, error_status(exc)
    messages.success(request, saved_message % {"name": saved.name})
    return redirect("console:discounts"), 200


def _threshold_page(request, *, activity=None, data=None):
    initial = _threshold_initial(activity) if activity else {"stacks_with_coupons": True}
    form = ThresholdForm(data, shop=request.shop, initial=initial)
    status = 200
    if data is not None:
        done, status = _submit(
            request,
            form,
            lambda clean: thresholds.threshold_save(
                actor=request.staff, shop=request.shop, data=clean, activity_id=activity.public_id if activity else None
            ),
            _("The activity %(name)s is saved."),
        )
        if done is not None:
            return done
    context = {"form": form, "activity": activity, "phase": phase(activity) if activity else ""}
    return page(request, "console/discounts/threshold_edit.html", context, status=status)


@staff_required(perm=VIEW)
def threshold_new(request):
    return _threshold_page(request, data=request.POST if request.method == "POST" else None)


@staff_required(perm=VIEW)
def threshold_edit(request, public_id: str):
    activity = thresholds.threshold_of(shop=request.shop, activity_id=public_id)
    return _threshold_page(request, activity=activity, data=request.POST if request.method == "POST" else None)


@staff_required(perm=MANAGE)
@require_POST
def threshold_end(request, public_id: str):
    activity = thresholds.threshold_end(actor=request.staff, shop=request.shop, activity_id=public_id)
    messages.success(request, _("%(name)s has ended.") % {"name": activity.name})
    return redirect("console:discounts")


# --- limited-time discounts ----------------------------------------------------------------


def _limited_initial(discount) -> dict:
    lines = [
        f"{i.sku_id} {format_yuan(i.price)}" if i.price is not None else f"{i.sku_id} {Decimal(i.off_bp or 0) / 100}%"
        for i in discount.items.all()
    ]
    return {
        "name": discount.name,
        "starts_at": discount.starts_at,
        "ends_at": discount.ends_at,
        "per_customer_limit": discount.per_customer_limit,
        "items": "\n".join(lines),
    }


def _limited_page(request, *, discount=None, data=None):
    form = LimitedForm(data, initial=_limited_initial(discount) if discount else {"per_customer_limit": 0})
    status = 200
    if data is not None:
        done, status = _submit(
            request,
            form,
            lambda clean: limited.limited_save(
                actor=request.staff, shop=request.shop, data=clean, discount_id=discount.public_id if discount else None
            ),
            _("The discount %(name)s is saved."),
        )
        if done is not None:
            return done
    skus = Sku.objects.filter(shop=request.shop, is_active=True).select_related("product").order_by("-product_id", "id")
    context = {
        "form": form,
        "discount": discount,
        "phase": phase(discount) if discount else "",
        "skus": list(skus[:200]),
    }
    return page(request, "console/discounts/limited_edit.html", context, status=status)


@staff_required(perm=VIEW)
def limited_new(request):
    return _limited_page(request, data=request.POST if request.method == "POST" else None)


@staff_required(perm=VIEW)
def limited_edit(request, public_id: str):
    discount = limited.limited_of(shop=request.shop, discount_id=public_id)
    return _limited_page(request, discount=discount, data=request.POST if request.method == "POST" else None)


@staff_required(perm=MANAGE)
@require_POST
def limited_end(request, public_id: str):
    discount = limited.limited_end(actor=request.staff, shop=request.shop, discount_id=public_id)
    messages.success(request, _("%(name)s has ended.") % {"name": discount.name})
    return redirect("console:discounts")


# --- member prices -------------------------------------------------------------------------


@staff_required(perm=VIEW)
def member_price_matrix(request, public_id: str):
    """SKUs × levels; a blank cell has no member price. One form saves the whole matrix."""
    product = member_prices.product_for_prices(shop=request.shop, public_id=public_id)
    matrix = selectors.member_price_matrix(shop=request.shop, product=product)
    error, status = None, 200
    typed: dict[tuple[int, int], str] = {}
    if request.method == "POST":
        if not request.staff.can(MANAGE):
            return page(
                request,
                "console/error.html",
                {"status": 403, "message": _("Your role does not allow this page.")},
                status=403,
            )
        cells: list[dict] = []
        for sku in matrix.skus:
            for level in matrix.levels:
                value = request.POST.get(f"p_{sku.pk}_{level.pk}", "").strip()[:20]
                typed[(sku.pk, level.pk)] = value
                if value:
                    cells.append({"sku": sku.pk, "level": level.pk, "price": value})
        try:
            member_prices.member_prices_set(
                actor=request.staff,
                shop=request.shop,
                product=product,
                prices=cells,
                override_reason=request.POST.get("override_reason", "")[:200],
            )
            messages.success(request, _("The member prices of %(name)s are saved.") % {"name": product.name})
            return redirect("console:discount_member_prices", product.public_id)
        except DomainError as exc:
            if exc.status in (403, 404) and exc.code != "not_found":
                raise
            error, status = exc, error_status(exc)
    rows = [
        {
            "sku": row["sku"],
            "cells": [
                (level, typed.get((row["sku"].pk, level.pk), format_yuan(price) if price is not None else ""))
                for level, price in row["cells"]
            ],
        }
        for row in matrix.rows()
    ]
    context = {"product": product, "levels": matrix.levels, "rows": rows, "error": error}
    return page(request, "console/discounts/member_prices.html", context, status=status)


@staff_required(perm=VIEW)
def member_price_pick(request):
    return redirect("console:discount_member_prices", str(request.GET.get("product", ""))[:16] or "-")
