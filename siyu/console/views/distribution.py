"""Promoters (分销员): applications, approval, each promoter's page; commission rules; settings.

The services check every permission (deciding on promoters needs customers.manage; rules and
settings shop.manage); the pages only hide buttons a role cannot use.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from siyu.catalog.selectors import categories_tree, products_for_staff
from siyu.core.db_router import replica_reads
from siyu.core.errors import DomainError
from siyu.distribution import promoters as promoter_services
from siyu.distribution.console_reads import commission_rules_of
from siyu.distribution.models import Promoter
from siyu.distribution.selectors import (
    commissions_of,
    distribution_settings,
    flags_of,
    promoters_list,
    wallet_of,
)
from siyu.distribution.sellthrough import promoter_sellthrough

from ..decorators import staff_required
from ..forms import category_choices
from ..paging import paged
from ..rendering import error_status, form_error, page
from .fission_forms import CommissionRuleForm, DecisionForm, DistributionSettingsForm, bp_to_percent

VIEW = "customers.view"
PAGE_SIZE = 50
DETAIL_ROWS = 20
STATUS_LABELS = dict(Promoter.Status.choices)


def mask_id(text: str) -> str:
    """An ID number or payout account as staff lists show it: enough to recognise, not to reuse."""
    text = str(text or "")
    if len(text) <= 6:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


# How a promoter is paid, in words (the model keeps a code).
PAYOUT_LABELS = {
    "wechat": pgettext_lazy("payout", "WeChat"),
    "alipay": pgettext_lazy("payout", "Alipay"),
    "bank": pgettext_lazy("payout", "Bank card"),
}


def promoter_row(promoter) -> dict:
    return {
        "promoter": promoter,
        "status": STATUS_LABELS.get(promoter.status, promoter.status),
        "payout": PAYOUT_LABELS.get(promoter.payout_kind, promoter.payout_kind),
        "id_masked": mask_id(promoter.id_number),
        "account_masked": mask_id(promoter.payout_account),
    }


@staff_required(perm=VIEW)
@require_GET
@replica_reads()
def promoter_list(request):
    status = request.GET.get("status", "")
    if status not in STATUS_LABELS:
        status = ""
    found = Paginator(promoters_list(shop=request.shop, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": found,
        "rows": [promoter_row(p) for p in found.object_list],
        "status": status,
        "statuses": list(Promoter.Status.choices),
        "query": f"status={status}" if status else "",
        "decision": DecisionForm(),
    }
    return page(request, "console/promoters.html", context)


@staff_required(perm=VIEW)
@require_GET
def promoter_detail(request, promoter_id: int):
    promoter = promoter_services.promoter_get(shop=request.shop, promoter_id=promoter_id)
    figures = promoter_sellthrough(shop=request.shop, promoter_ids=[promoter.pk])
    # Every commission, a page at a time, not just the newest few.
    commissions = paged(request, commissions_of(promoter=promoter), param="commissions_page", per_page=DETAIL_ROWS)
    context = {
        **promoter_row(promoter),
        "wallet": wallet_of(promoter=promoter),
        "commissions": commissions,
        "flags": flags_of(promoter=promoter),
        "figures": figures[0] if figures else None,
        "decision": DecisionForm(),
    }
    return page(request, "console/promoter_detail.html", context)


def _back(request, promoter_id: int):
    if request.POST.get("next") == "list":
        return redirect("console:promoters")
    return redirect("console:promoter_detail", promoter_id=promoter_id)


@staff_required(perm=VIEW)
@require_POST
def promoter_decide(request, promoter_id: int):
    """Approve or reject an application (action=approve|reject), or suspend / resume a promoter."""
    promoter = promoter_services.promoter_get(shop=request.shop, promoter_id=promoter_id)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    action = request.POST.get("action", "")
    try:
        if action in ("approve", "reject"):
            promoter_services.promoter_decide(
                actor=request.staff, promoter=promoter, approve=action == "approve", note=note
            )
        elif action in ("suspend", "resume"):
            promoter_services.promoter_suspend(
                actor=request.staff, promoter=promoter, note=note, resume=action == "resume"
            )
        else:
            messages.error(request, _("Choose an action."))
            return _back(request, promoter.pk)
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
        return _back(request, promoter.pk)
    done = {
        "approve": _("The promoter is approved."),
        "reject": _("The application is rejected."),
        "suspend": _("The promoter is suspended."),
        "resume": _("The promoter can earn again."),
    }
    messages.success(request, done[action])
    return _back(request, promoter.pk)


# --- commission rules --------------------------------------------------------------------


def _rule_form(request, data=None) -> CommissionRuleForm:
    tree = categories_tree(shop=request.shop, visible_only=False)
    return CommissionRuleForm(
        data,
        products=list(products_for_staff(shop=request.shop)),
        categories=category_choices(tree, blank="—"),
    )


def _rules_page(request, *, form=None, status: int = 200):
    settings = distribution_settings(shop=request.shop)
    rules = [{"rule": r, "rate": bp_to_percent(r.rate_bp)} for r in commission_rules_of(shop=request.shop)]
    context = {
        "settings": settings,
        "default_rate": bp_to_percent(settings.default_rate_bp),
        "second_rate": bp_to_percent(settings.second_tier_rate_bp),
        "rules": rules,
        "form": form or _rule_form(request),
    }
    return page(request, "console/commission_rules.html", context, status=status)


@staff_required(perm=VIEW)
def commission_rules(request):
    if request.method != "POST":
        return _rules_page(request)
    form = _rule_form(request, request.POST)
    if not form.is_valid():
        return _rules_page(request, form=form, status=400)
    try:
        promoter_services.commission_rule_set(actor=request.staff, shop=request.shop, **form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return _rules_page(request, form=form, status=error_status(exc))
    messages.success(request, _("The commission rule is saved."))
    return redirect("console:commission_rules")


@staff_required(perm=VIEW)
@require_POST
def commission_rule_delete(request, rule_id: int):
    promoter_services.commission_rule_delete(actor=request.staff, shop=request.shop, rule_id=rule_id)
    messages.success(request, _("The commission rule is deleted."))
    return redirect("console:commission_rules")


# --- settings ----------------------------------------------------------------------------


def _settings_page(request, *, form=None, status: int = 200):
    settings = distribution_settings(shop=request.shop)
    form = form or DistributionSettingsForm(initial=DistributionSettingsForm.initial_for(settings))
    return page(request, "console/fission_distribution_settings.html", {"form": form}, status=status)


@staff_required(perm=VIEW)
def settings_page(request):
    if request.method != "POST":
        return _settings_page(request)
    form = DistributionSettingsForm(request.POST)
    if not form.is_valid():
        return _settings_page(request, form=form, status=400)
    try:
        promoter_services.distribution_settings_update(actor=request.staff, shop=request.shop, data=form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return _settings_page(request, form=form, status=error_status(exc))
    messages.success(request, _("The distribution settings are saved."))
    return redirect("console:distribution_settings")
