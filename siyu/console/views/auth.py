"""Signing in and out, and the dashboard."""

from django.contrib import auth
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_for_user, staff_list
from siyu.catalog.selectors import catalog_counts

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


@staff_required
def home(request):
    members = staff_list(shop=request.shop)
    context = {
        "counts": catalog_counts(shop=request.shop),
        "staff_active": sum(1 for m in members if m.is_active),
        "staff_total": len(members),
    }
    return page(request, "console/home.html", context)
