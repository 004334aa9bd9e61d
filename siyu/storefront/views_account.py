"""Shopper sign-in (mobile number + one-time code), the "my" page and addresses."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from siyu.accounts.selectors import address_get, addresses_of
from siyu.accounts.services import (
    address_create,
    address_delete,
    address_update,
    otp_request,
    shopper_sign_in,
)
from siyu.accounts.sessions import shopper_session_start
from siyu.core.errors import DomainError
from siyu.core.security import client_ip

from .helpers import current_shopper, safe_next, shopper_required

ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "district", "detail")


@require_http_methods(["GET", "POST"])
def login(request):
    next_url = safe_next(request, reverse("storefront:my"))
    ctx = {"phone": request.POST.get("phone", "").strip()[:20], "next": next_url, "code_sent": False}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "send":
                otp_request(phone=ctx["phone"], ip=client_ip(request), shop=request.shop)
                ctx["code_sent"] = True
            else:
                shopper = shopper_sign_in(phone=ctx["phone"], code=request.POST.get("code", ""))
                shopper_session_start(session=request.session, shopper=shopper)
                return redirect(next_url)
        except DomainError as exc:
            ctx["error"] = exc.message
            ctx["code_sent"] = request.POST.get("action") != "send"
            status = exc.status if exc.status < 500 else 400
    return render(request, "storefront/login.html", ctx, status=status)


@require_POST
def logout(request):
    request.session.flush()
    return redirect("storefront:home")


@shopper_required
def my(request):
    shopper = current_shopper(request)
    return render(
        request,
        "storefront/my.html",
        {
            "shopper": shopper,
            "addresses": addresses_of(shop=request.shop, shopper=shopper)[:1],
        },
    )


@shopper_required
def addresses(request):
    shopper = current_shopper(request)
    return render(request, "storefront/addresses.html", {"addresses": addresses_of(shop=request.shop, shopper=shopper)})


@shopper_required
@require_http_methods(["GET", "POST"])
def address_edit(request, public_id: str | None = None):
    shopper = current_shopper(request)
    address = None
    if public_id:
        address = address_get(shop=request.shop, shopper=shopper, public_id=public_id)
    data = {f: getattr(address, f, "") for f in ADDRESS_FIELDS}
    data["is_default"] = getattr(address, "is_default", False)
    errors, status = {}, 200
    if request.method == "POST":
        data = {f: request.POST.get(f, "")[:300] for f in ADDRESS_FIELDS}
        data["is_default"] = request.POST.get("is_default") == "on"
        try:
            if address is None:
                address_create(shop=request.shop, shopper=shopper, data=data)
            else:
                address_update(shop=request.shop, shopper=shopper, public_id=address.public_id, data=data)
            messages.success(request, _("Address saved."))
            return redirect(safe_next(request, reverse("storefront:addresses")))
        except DomainError as exc:
            errors, status = {"form": exc.message, **exc.detail}, exc.status
    return render(
        request, "storefront/address_form.html", {"address": address, "data": data, "errors": errors}, status=status
    )


@shopper_required
@require_POST
def address_remove(request, public_id: str):
    address_delete(shop=request.shop, shopper=current_shopper(request), public_id=public_id)
    messages.success(request, _("Address deleted."))
    return redirect("storefront:addresses")
