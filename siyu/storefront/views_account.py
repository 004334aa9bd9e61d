"""Shopper sign-in (mobile number + one-time code), the "my" page and addresses."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from siyu.accounts.agreements import AGREEMENT_VERSION
from siyu.accounts.regions import region_cities, region_districts, region_provinces, region_tree
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
from .panels import my_links

RESEND_SECONDS = 60  # otp_request refuses a second code for a number within a minute
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
                ctx["code_sent"], ctx["resend_in"] = True, RESEND_SECONDS
            else:
                # The page says that signing in accepts the shop's agreement: record which version.
                shopper = shopper_sign_in(
                    phone=ctx["phone"],
                    code=request.POST.get("code", ""),
                    shop=request.shop,
                    agreement=AGREEMENT_VERSION,
                )
                shopper_session_start(session=request.session, shopper=shopper)
                return redirect(next_url)
        except DomainError as exc:
            ctx["error"] = exc.message
            ctx["code_sent"] = request.POST.get("action") != "send"
            if isinstance(exc.detail, dict) and exc.detail.get("retry_after"):
                ctx["resend_in"] = exc.detail["retry_after"]
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
            "promo_links": my_links(request),
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
            errors, status = {"form": exc.message, **_field_errors(exc.detail)}, exc.status
    return render(
        request,
        "storefront/address_form.html",
        {"address": address, "data": data, "errors": errors, **_region_choices(data)},
        status=status,
    )


# The service's detail holds codes (the API returns them as they are); people read these instead.
FIELD_ERRORS = {
    "required": gettext_lazy("Required."),
    "invalid phone": gettext_lazy("Enter an 11-digit mainland China mobile number."),
    "not in the region list": gettext_lazy("Choose from the list."),
}


def _field_errors(detail) -> dict:
    if not isinstance(detail, dict):
        return {}
    return {k: FIELD_ERRORS.get(str(v), gettext_lazy("Too long.")) for k, v in detail.items() if k in ADDRESS_FIELDS}


def _region_choices(data: dict) -> dict:
    """The picker's options for the address being edited, so the form works before its script loads."""
    province, city = data.get("province", ""), data.get("city", "")
    return {
        "provinces": region_provinces(),
        "cities": region_cities(province=province),
        "districts": region_districts(province=province, city=city),
    }


@require_GET
@cache_control(max_age=86400, public=True)
def regions(request):
    """The whole 省/市/区 list for the address picker's script (fetched once, then cached)."""
    return JsonResponse(region_tree(), json_dumps_params={"ensure_ascii": False, "separators": (",", ":")})


@shopper_required
@require_POST
def address_remove(request, public_id: str):
    address_delete(shop=request.shop, shopper=current_shopper(request), public_id=public_id)
    messages.success(request, _("Address deleted."))
    return redirect("storefront:addresses")
