"""Signing in and out, and the dashboard."""

from django import forms
from django.contrib import auth, messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from siyu.accounts.selectors import staff_list
from siyu.accounts.services import staff_set_password
from siyu.accounts.sessions import session_keep_after_password_change
from siyu.accounts.signin import staff_sign_in
from siyu.analytics.charts import PALETTE, Series, line_chart, sparkline
from siyu.analytics.dash_sql import DateRange
from siyu.analytics.funnel import funnel_report
from siyu.analytics.trends import trends_report
from siyu.catalog.selectors import catalog_counts
from siyu.core.errors import DomainError
from siyu.core.security import client_ip
from siyu.customers.selectors import customer_counts
from siyu.orders.selectors import order_counts, orders_paid_since

from ..decorators import staff_required
from ..forms import LoginForm
from ..rendering import page
from . import analytics_tables


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login(request):
    """Username and password, accepted only for an active staff member of this shop. Every
    refusal reads the same, and attempts are throttled per account and per address."""
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                member = staff_sign_in(
                    shop=request.shop,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    ip=client_ip(request),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                auth.login(request, member.user)
                return redirect(_next_url(request) or "console:home")
    return page(request, "console/login.html", {"form": form, "next": _next_url(request)}, status=status)


@require_POST
def logout(request):
    auth.logout(request)
    return redirect("console:login")


class PasswordForm(forms.Form):
    password = forms.CharField(label=_lazy("Current password"), widget=forms.PasswordInput, max_length=200)
    new_password = forms.CharField(
        label=_lazy("New password"), widget=forms.PasswordInput, min_length=8, max_length=200
    )


@sensitive_post_parameters("password", "new_password")
@never_cache
@staff_required
def password(request):
    """A staff member changes their own password; every other session of theirs ends. The
    current password goes through the same throttled check as signing in."""
    form = PasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                staff_sign_in(
                    shop=request.shop,
                    username=request.user.get_username(),
                    password=form.cleaned_data["password"],
                    ip=client_ip(request),
                )
                staff_set_password(
                    actor=request.staff,
                    member=request.staff,
                    password=form.cleaned_data["new_password"],
                    keep_session_key=request.session.session_key,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                session_keep_after_password_change(request=request, user=request.staff.user)
                messages.success(request, _("Your password has been changed. Other devices are signed out."))
                return redirect("console:home")
    return page(request, "console/password.html", {"form": form}, status=status)


def _paid_today(shop) -> dict:
    """Orders paid since midnight in the shop's time zone, and what they brought in (one query)."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return orders_paid_since(shop=shop, since=start)


def _key_charts(request) -> dict | None:
    """The dashboard's charts: revenue of the last 30 days against the 30 before, and the funnel of
    the people who first came in those 30 days. Four aggregate queries; none without analytics.view."""
    if not request.staff.can("analytics.view"):
        return None
    span = DateRange.last_days(30)
    trend = trends_report(actor=request.staff, shop=request.shop, span=span, grain="day")
    funnel = funnel_report(actor=request.staff, shop=request.shop, span=span, grain="month")
    labels = [analytics_tables.period_label(p.period, "day") for p in trend.points]
    return {
        "trend": trend,
        "revenue": line_chart(
            labels,
            [
                Series(_("Previous 30 days"), [p.revenue for p in trend.previous_points], PALETTE[5], dashed=True),
                Series(_("Last 30 days"), [p.revenue for p in trend.points], PALETTE[0]),
            ],
            label=_("Revenue, last 30 days"),
            fmt=analytics_tables.yuan_text,
        ),
        "orders": sparkline([p.orders for p in trend.points], label=_("Paid orders, last 30 days")),
        "funnel": analytics_tables.funnel_chart(funnel.totals, label=_("Funnel, last 30 days")),
    }


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
        "charts": _key_charts(request),
    }
    return page(request, "console/home.html", context)
