"""Promoter pages: apply, status, my micro-shop links, my commissions, wallet and withdrawals."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from siyu.core.errors import DomainError
from siyu.distribution.models import Commission, Promoter
from siyu.distribution.promoters import PAYOUT_KINDS, promoter_apply
from siyu.distribution.selectors import (
    commissions_of,
    distribution_settings,
    micro_shop_products,
    promoter_for_shopper,
    wallet_of,
)
from siyu.distribution.withdrawals import withdrawal_request

from .helpers import current_shopper, shopper_required

PAGE_SIZE = 20
APPLY_FIELDS = ("real_name", "id_number", "payout_kind", "payout_account", "parent_code")


def _approved(request, *, or_suspended: bool = False) -> Promoter | None:
    """The shopper's promoter profile if approved (or, for their money, suspended: what they
    earned stays theirs)."""
    promoter = promoter_for_shopper(shop=request.shop, shopper=current_shopper(request))
    allowed = {Promoter.Status.APPROVED, Promoter.Status.SUSPENDED} if or_suspended else {Promoter.Status.APPROVED}
    return promoter if promoter is not None and promoter.status in allowed else None


@shopper_required
@require_http_methods(["GET", "POST"])
def promoter_home(request):
    """Not yet a promoter (or rejected): the application form. Otherwise: where they stand."""
    shopper = current_shopper(request)
    promoter = promoter_for_shopper(shop=request.shop, shopper=shopper)
    can_apply = promoter is None or promoter.status == Promoter.Status.REJECTED
    data = {f: "" for f in APPLY_FIELDS}
    data["payout_kind"], data["parent_code"] = "wechat", request.session.get("ref", "")
    errors, status = {}, 200
    if request.method == "POST" and can_apply:
        data = {f: request.POST.get(f, "").strip()[:80] for f in APPLY_FIELDS}
        try:
            promoter_apply(shop=request.shop, shopper=shopper, **data)
            messages.success(request, _("Application sent. We will let you know."))
            return redirect("storefront:promoter")
        except DomainError as exc:
            errors, status = {"form": exc.message, **exc.detail}, exc.status
    context = {
        "promoter": promoter,
        "can_apply": can_apply,
        "enabled": distribution_settings(shop=request.shop).enabled if can_apply else True,
        "data": data,
        "errors": errors,
        "payout_kinds": PAYOUT_KINDS,
    }
    return render(request, "storefront/promoter.html", context, status=status)


@shopper_required
@require_GET
def promoter_shop(request):
    """My micro-shop: the brand's catalogue at its prices, every link carrying my code."""
    if _approved(request) is None:
        return redirect("storefront:promoter")
    code = current_shopper(request).share_code
    page = Paginator(micro_shop_products(shop=request.shop), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "product": item,
            "share_url": request.build_absolute_uri(reverse("storefront:product", args=[item.public_id]))
            + f"?ref={code}",
            "poster_url": reverse("storefront:poster", args=[item.public_id]) + f"?ref={code}",
        }
        for item in page
    ]
    return render(request, "storefront/promoter_shop.html", {"page": page, "rows": rows, "code": code})


@shopper_required
@require_GET
def promoter_commissions(request):
    promoter = _approved(request, or_suspended=True)
    if promoter is None:
        return redirect("storefront:promoter")
    status = request.GET.get("status", "")
    if status not in Commission.Status.values:
        status = ""
    page = Paginator(commissions_of(promoter=promoter, status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "storefront/promoter_commissions.html",
        {"page": page, "status": status, "statuses": Commission.Status.choices},
    )


@shopper_required
@require_GET
def promoter_wallet(request):
    promoter = _approved(request, or_suspended=True)
    if promoter is None:
        return redirect("storefront:promoter")
    return render(
        request,
        "storefront/promoter_wallet.html",
        {"wallet": wallet_of(promoter=promoter), "settings": distribution_settings(shop=request.shop)},
    )


@shopper_required
@require_POST
def promoter_withdraw(request):
    try:
        withdrawal_request(
            shop=request.shop, shopper=current_shopper(request), amount=request.POST.get("amount", "")[:20]
        )
        messages.success(request, _("Withdrawal requested. Finance will review it."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("storefront:promoter_wallet")
