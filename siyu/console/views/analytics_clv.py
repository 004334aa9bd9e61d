"""Customer lifetime value in the console: who to win back (list, CSV) and the last fit."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.analytics import clv
from siyu.analytics.tasks import clv_fit_task

from ..decorators import staff_required
from ..rendering import page
from ..spreadsheets import csv_response

PERM = "analytics.view"
PAGE_ROWS = 200


@staff_required(perm=PERM)
def winback(request):
    """The win-back list (most valuable first) and the fit it came from. Three queries after the
    staff check: the fit, the candidates with their customers."""
    fit = clv.clv_latest_fit(actor=request.staff, shop=request.shop)
    rows = clv.winback_list(actor=request.staff, shop=request.shop, limit=PAGE_ROWS)
    context = {"fit": fit, "rows": rows, "limit": PAGE_ROWS, "settings": clv_settings()}
    return page(request, "console/analytics_clv/winback.html", context)


def clv_settings() -> dict:
    return {
        "horizon_months": clv.HORIZON_MONTHS,
        "monthly_discount_pct": clv.MONTHLY_DISCOUNT_BP / 100,
        "p_alive_pct": int(clv.WIN_BACK_P_ALIVE * 100),
    }


@staff_required(perm=PERM)
def winback_export(request):
    rows = clv.winback_export(actor=request.staff, shop=request.shop)
    header = next(rows)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(filename=f"win-back-{stamp}.csv", header=header, rows=rows)


@staff_required(perm=PERM)
@require_POST
def clv_refit(request):
    """Queue a fit of this shop now (the worker runs it; the nightly run does the same)."""
    clv.clv_latest_fit(actor=request.staff, shop=request.shop)  # the permission check
    clv_fit_task(request.shop.pk)
    messages.success(request, _("The lifetime value model is being refitted; reload the page in a minute."))
    return redirect("console:clv_winback")
