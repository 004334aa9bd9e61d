"""Signing in and out, and the dashboard."""

from django.contrib import auth
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_for_user, staff_list
from siyu.catalog.selectors import catalog_counts
from siyu.customers.selectors import customer_counts
from siyu.orders.selectors import order_counts, orders_paid_since

from ..decorators import staff_required
from ..forms import LoginForm
from ..rendering import page


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login(request):
    """Username and password, accepted only for an active staff member of this shop."""
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            user = auth.authenticate(
                request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
            if user is None:
                form.add_error(None, _("The username or password is wrong."))
            elif staff_for_user(user=user, shop=request.shop) is None:
                form.add_error(None, _("This account is not staff of this shop."))
            else:
                auth.login(request, user)
                return redirect(_next_url(request) or "console:home")
    return page(request, "console/login.html", {"form": form, "next": _next_url(request)}, status=status)


@require_POST
def logout(request):
    auth.logout(request)
    return redirect("console:login")


def _paid_today(shop) -> dict:
    """Orders paid since midnight in the shop's time zone, and what they brought in (one query)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return orders_paid_since(shop=shop, since=start)


@staff_required
def home(request):
    members = staff_list(shop=request.shop)
    orders = order_counts(shop=request.shop)
    context = {
        "counts": catalog_counts(shop=request.shop),
        "customers": customer_counts(shop=request.shop),
        "staff_active": sum(1 for m in members if m.is_active),
        "staff_total": len(members),
        "orders": {
            "to_ship": orders["to_ship"],
            "pending_payment": orders["by_status"].get("pending_payment", 0),
            "after_sales_open": orders["after_sales_open"],
            "paid_today": _paid_today(request.shop),
        },
    }
    return page(request, "console/home.html", context)
