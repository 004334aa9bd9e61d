"""Fission (裂变): the analytics page, the referral rules and a customer's referral tree."""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from siyu.core.errors import DomainError
from siyu.customers.models import Customer
from siyu.customers.selectors import customer_for_staff
from siyu.referrals.analytics import (
    MAX_DEPTH,
    referral_funnel,
    referral_k_factor,
    referral_new_customer_share,
    referral_top_referrers,
    referral_tree,
)
from siyu.referrals.selectors import referral_settings_for_staff
from siyu.referrals.services import referral_settings_update

from ..decorators import staff_required
from ..rendering import error_status, form_error, page
from .fission_forms import PeriodForm, ReferralSettingsForm, bp_to_percent

VIEW = "customers.view"


def _bars(rows: list[tuple[str, str, int]]) -> list[dict]:
    """Funnel steps with their width as a share of the widest step (whole percent, no floats)."""
    top = max((n for _key, _label, n in rows), default=0)
    return [{"key": k, "label": label, "n": n, "width": n * 100 // top if top else 0} for k, label, n in rows]


def _funnel(funnel: dict) -> list[dict]:
    return _bars(
        [
            ("invites", _("Sharers whose link was opened"), funnel["invites"]),
            ("visitors", _("Visitors"), funnel["visitors"]),
            ("signups", _("Sign-ups"), funnel["signups"]),
            ("first_orders", _("First orders"), funnel["first_orders"]),
        ]
    )


def _period(request) -> tuple[PeriodForm, int, str]:
    form = PeriodForm(request.GET or None)
    days, period = 30, "week"
    if form.is_bound and form.is_valid():
        days = int(form.cleaned_data["days"] or days)
        period = form.cleaned_data["period"] or period
    return form, days, period


@staff_required(perm=VIEW)
@require_GET
def fission(request):
    form, days, period = _period(request)
    end = timezone.now()
    start = end - timedelta(days=days)
    # The page's four figures, each one fixed-cost aggregate read (see siyu.referrals.analytics).
    shop = request.shop
    funnel = referral_funnel(shop=shop, start=start, end=end)
    new = referral_new_customer_share(shop=shop, start=start, end=end)
    context = {
        "form": form,
        "days": days,
        "funnel": funnel,
        "bars": _funnel(funnel),
        "k_rows": referral_k_factor(shop=shop, start=start, end=end, period=period),
        "new": new,
        "share": bp_to_percent(new["share_bp"]),
        "top": referral_top_referrers(shop=shop, start=start, end=end),
    }
    return page(request, "console/fission.html", context)


def _settings_page(request, *, form=None, status: int = 200):
    rules = referral_settings_for_staff(shop=request.shop)
    form = form or ReferralSettingsForm(initial=ReferralSettingsForm.initial_for(rules))
    return page(request, "console/referral_settings.html", {"form": form, "rules": rules}, status=status)


@staff_required(perm=VIEW)
def referral_settings(request):
    if request.method != "POST":
        return _settings_page(request)
    form = ReferralSettingsForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, form=form, status=400)
    try:
        referral_settings_update(actor=request.staff, shop=request.shop, data=form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return _settings_page(request, form=form, status=error_status(exc))
    messages.success(request, _("The referral rules are saved."))
    return redirect("console:referral_settings")


def _depth(request) -> int:
    text = request.GET.get("depth", "")
    return max(1, min(int(text), MAX_DEPTH)) if text.isdigit() else 3


@staff_required(perm=VIEW)
@require_GET
def referral_tree_page(request, public_id: str):
    """Whom a customer brought in, and whom those brought in, a few levels deep."""
    customer = customer_for_staff(shop=request.shop, public_id=public_id)
    depth = _depth(request)
    tree = referral_tree(shop=request.shop, customer=customer, depth=depth)
    context = {"customer": customer, "tree": tree, "depth": depth, "depths": range(1, MAX_DEPTH + 1)}
    return page(request, "console/fission_tree.html", context)


@staff_required(perm=VIEW)
@require_GET
def referral_tree_of_shopper(request, shopper_id: int):
    """The same tree reached from the top-referrers list, which knows the sharer's shopper id.
    The tree is read within this shop only, so an id from elsewhere simply shows nobody."""
    depth = _depth(request)
    # referral_tree reads only the customer's shopper id; an unsaved record carries it without a query.
    tree = referral_tree(shop=request.shop, customer=Customer(shop=request.shop, shopper_id=shopper_id), depth=depth)
    context = {"customer": None, "tree": tree, "depth": depth, "depths": range(1, MAX_DEPTH + 1)}
    return page(request, "console/fission_tree.html", context)
