"""The shopper's membership, points, consents and personal data (export, account deletion)."""

import json

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from siyu.core.errors import DomainError
from siyu.customers.membership import member_overview
from siyu.customers.privacy import consent_set, shopper_data_export, shopper_delete

from .helpers import current_shopper, shopper_required

CONFIRM_WORD = "delete"


def _confirm_word() -> str:
    # The word to type, in the page's language; the English word is always accepted too.
    return _("delete")


@shopper_required
@require_GET
def member(request):
    overview = member_overview(shop=request.shop, shopper=current_shopper(request))
    return render(request, "storefront/member.html", {"m": overview})


@shopper_required
@require_POST
def member_consents(request):
    try:
        consent_set(
            shop=request.shop,
            shopper=current_shopper(request),
            marketing=request.POST.get("marketing") == "on",
            profiling=request.POST.get("profiling") == "on",
        )
        messages.success(request, _("Your choices are saved."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("storefront:member")


@shopper_required
@require_GET
def privacy(request):
    return render(request, "storefront/privacy.html")


@shopper_required
@require_GET
def privacy_export(request):
    data = shopper_data_export(shopper=current_shopper(request))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    name = f"my-data-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@shopper_required
@require_http_methods(["GET", "POST"])
def privacy_delete(request):
    error: str | Promise | None = None
    status = 200
    if request.method == "POST":
        if request.POST.get("confirm", "").strip().lower() not in {CONFIRM_WORD, _confirm_word()}:
            error, status = _("Type the word shown to confirm."), 400
        else:
            try:
                shopper_delete(shopper=current_shopper(request))
            except DomainError as exc:
                error, status = exc.message, exc.status
            else:
                request.session.flush()
                messages.success(request, _("Your account has been deleted."))
                return redirect("storefront:home")
    return render(
        request,
        "storefront/privacy_delete.html",
        {"confirm_word": _confirm_word(), "error": error},
        status=status,
    )
