"""The seller's social accounts (personal WeChat / WeCom): how full each is, where new customers
should go, and the customers each holds; plus the membership levels and the pool's settings."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_list
from siyu.core.errors import DomainError, PermissionDenied
from siyu.customers import membership, social
from siyu.customers.selectors import (
    crm_settings_for_staff,
    levels_for_staff,
    social_account_for_staff,
    social_accounts_for_staff,
    social_links_of_account,
)
from siyu.customers.settings_service import crm_settings_update

from ..decorators import staff_required
from ..rendering import error_status, form_error, page
from .customers_forms import CrmSettingsForm, LevelForm, SocialAccountForm
from .customers_labels import SOCIAL_KIND_LABELS, SOCIAL_STATUS_LABELS, label, social_status_choices

EDIT = "customers.manage"
PAGE_SIZE = 50


def _require_edit(request) -> None:
    if not request.staff.can(EDIT):
        raise PermissionDenied(detail={"permission": EDIT})


def account_row(account) -> dict:
    return {"account": account, "kind": label(SOCIAL_KIND_LABELS, account.kind), "cap": social.social_capacity(account)}


def _accounts_page(request, *, form=None, status: int = 200):
    rows = [account_row(a) for a in social_accounts_for_staff(shop=request.shop)]
    context = {
        "rows": rows,
        "warnings": [r for r in rows if r["cap"].warning],
        "suggested": social.social_suggest_account(shop=request.shop),
        "form": form or SocialAccountForm(staff=staff_list(shop=request.shop)),
    }
    return page(request, "console/social_accounts.html", context, status=status)


@staff_required(perm="customers.view")
def social_accounts(request):
    if request.method != "POST":
        return _accounts_page(request)
    _require_edit(request)
    form = SocialAccountForm(request.POST, staff=staff_list(shop=request.shop))
    if not form.is_valid():
        return _accounts_page(request, form=form, status=400)
    try:
        account = social.social_account_save(actor=request.staff, shop=request.shop, data=form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return _accounts_page(request, form=form, status=error_status(exc))
    messages.success(request, _("The account %(name)s is added.") % {"name": account.name})
    return redirect("console:social_accounts")


def _account_page(request, account, *, form=None, status: int = 200):
    links = Paginator(social_links_of_account(shop=request.shop, account=account), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "row": account_row(account),
        "account": account,
        "form": form
        or SocialAccountForm(initial=SocialAccountForm.initial_for(account), staff=staff_list(shop=request.shop)),
        "page_obj": links,
        "links": [{"link": ln, "status": label(SOCIAL_STATUS_LABELS, ln.status)} for ln in links.object_list],
        "statuses": social_status_choices(),
        "query": "",
    }
    return page(request, "console/social_account.html", context, status=status)


@staff_required(perm="customers.view")
def social_account(request, account_id: int):
    account = social_account_for_staff(shop=request.shop, account_id=account_id)
    if request.method != "POST":
        return _account_page(request, account)
    _require_edit(request)
    form = SocialAccountForm(request.POST, staff=staff_list(shop=request.shop))
    if not form.is_valid():
        return _account_page(request, account, form=form, status=400)
    try:
        social.social_account_save(
            actor=request.staff, shop=request.shop, account_id=account.pk, data=form.service_data()
        )
    except DomainError as exc:
        form_error(form, exc)
        return _account_page(request, account, form=form, status=error_status(exc))
    messages.success(request, _("The account is saved."))
    return redirect("console:social_account", account_id=account.pk)


@staff_required(perm=EDIT)
@require_POST
def social_link_status(request, account_id: int):
    """Change a customer's status on this account, from the account's list of customers."""
    account = social_account_for_staff(shop=request.shop, account_id=account_id)
    try:
        social.social_link_set(
            actor=request.staff,
            shop=request.shop,
            account_id=account.pk,
            customer_public_id=request.POST.get("customer", ""),
            status=request.POST.get("status", ""),
        )
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The link is saved."))
    return redirect("console:social_account", account_id=account.pk)


# --- membership levels and settings ------------------------------------------------------


def percent_text(bp: int) -> str:
    """Basis points as a percentage without floats: 500 → "5", 550 → "5.5"."""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}".rstrip("0") if rest else str(whole)


def _membership_page(request, *, level_form=None, settings_form=None, status: int = 200):
    settings = crm_settings_for_staff(shop=request.shop)
    context = {
        "levels": [
            {"level": lv, "discount": percent_text(lv.discount_bp)} for lv in levels_for_staff(shop=request.shop)
        ],
        "level_form": level_form or LevelForm(),
        "settings_form": settings_form or CrmSettingsForm(initial=CrmSettingsForm.initial_for(settings)),
    }
    return page(request, "console/membership.html", context, status=status)


@staff_required(perm="customers.view")
def membership_page(request):
    if request.method != "POST":
        return _membership_page(request)
    _require_edit(request)
    if request.POST.get("action") == "settings":
        settings_form = CrmSettingsForm(request.POST)
        if not settings_form.is_valid():
            return _membership_page(request, settings_form=settings_form, status=400)
        try:
            crm_settings_update(actor=request.staff, shop=request.shop, data=settings_form.cleaned_data)
        except DomainError as exc:
            form_error(settings_form, exc)
            return _membership_page(request, settings_form=settings_form, status=error_status(exc))
        messages.success(request, _("The settings are saved."))
        return redirect("console:membership")
    form = LevelForm(request.POST)
    if not form.is_valid():
        return _membership_page(request, level_form=form, status=400)
    try:
        level = membership.level_save(actor=request.staff, shop=request.shop, data=form.service_data())
    except DomainError as exc:
        form_error(form, exc)
        return _membership_page(request, level_form=form, status=error_status(exc))
    messages.success(request, _("The level %(name)s is added.") % {"name": level.name})
    return redirect("console:membership")


@staff_required(perm=EDIT)
@require_POST
def level_delete(request, level_id: int):
    membership.level_delete(actor=request.staff, shop=request.shop, level_id=level_id)
    messages.success(request, _("The level is deleted."))
    return redirect("console:membership")
