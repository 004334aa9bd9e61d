"""The 分析 (analytics) pages: trends, funnel, profit identity, cohorts and repurchase.

Each page reads one report (siyu.analytics, a fixed number of aggregate queries), draws its charts
as inline SVG and shows the same numbers as tables; `?export=csv|xlsx&table=<name>` downloads a
table. Filters that do not parse fall back to the defaults (with the form's errors shown), so a
hand-edited address never breaks the page.
"""

from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from siyu.analytics.cohorts import cohorts_report
from siyu.analytics.dash_sql import DateRange
from siyu.analytics.funnel import SOURCES, funnel_report
from siyu.analytics.profit import FACTORS, PROFIT_FACTORS, profit_report
from siyu.analytics.repurchase import MIN_GAPS, repurchase_report
from siyu.analytics.trends import trends_report
from siyu.catalog.selectors import product_for_staff
from siyu.catalog.services import product_update
from siyu.core.errors import DomainError

from ..decorators import staff_required
from ..rendering import page
from ..spreadsheets import csv_response, xlsx_response
from . import analytics_tables as tables

VIEW = "analytics.view"
GRAIN_LABELS = {"day": gettext_lazy("By day"), "week": gettext_lazy("By week"), "month": gettext_lazy("By month")}


class RangeForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    grain = forms.ChoiceField(label=gettext_lazy("Grain"), required=False, choices=list(GRAIN_LABELS.items()))
    source = forms.ChoiceField(
        label=gettext_lazy("Source"), required=False, choices=[(k, tables.SOURCE_LABELS[k]) for k in ("", *SOURCES)]
    )


class ProfitForm(forms.Form):
    base_start = forms.DateField(
        label=gettext_lazy("Compare from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    base_end = forms.DateField(label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.DateField(
        label=gettext_lazy("With from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=gettext_lazy("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _filters(request, *, days: int, grain: str, fields: tuple[str, ...]) -> tuple[RangeForm, DateRange, str, str]:
    """The page's range, grain and source from the query string, or the defaults."""
    form = RangeForm(request.GET or None)
    for name in set(form.fields) - set(fields):
        del form.fields[name]
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    default = DateRange.last_days(days)
    span = DateRange.clamped(data.get("start") or default.first, data.get("end") or default.last)
    return form, span, data.get("grain") or grain, data.get("source") or ""


def _export(request, name: str, span: DateRange, found: list[tables.Table]):
    """The table asked for by ?export=&table=, as CSV or .xlsx; None when no export was asked."""
    kind = request.GET.get("export")
    if kind not in ("csv", "xlsx"):
        return None
    table = next((t for t in found if t.name == request.GET.get("table")), None)
    if table is None:
        raise Http404("no such table")
    filename = f"analytics-{name}-{table.name}-{span.first}-{span.last}.{kind}"
    rows = [["" if v is None else v for v in row] for row in table.rows]
    if kind == "csv":
        return csv_response(filename=filename, header=table.header, rows=rows)
    return xlsx_response(filename=filename, title=table.title, header=table.header, rows=rows)


def _page(request, template: str, name: str, span: DateRange, found: list[tables.Table], context: dict):
    return _export(request, name, span, found) or page(
        request, template, {"span": span, "t": {t.name: t for t in found}, "query": request.GET.urlencode(), **context}
    )


@staff_required(perm=VIEW)
@require_GET
def trends(request):
    form, span, grain, _source = _filters(request, days=30, grain="day", fields=("start", "end", "grain"))
    report = trends_report(actor=request.staff, shop=request.shop, span=span, grain=grain)
    found = tables.trend_tables(report)
    context = {
        "form": form,
        "report": report,
        "charts": tables.trend_charts(report),
        "grain_label": GRAIN_LABELS[grain],
    }
    return _page(request, "console/analytics/trends.html", "trends", report.span, found, context)


@staff_required(perm=VIEW)
@require_GET
def funnel(request):
    form, span, grain, source = _filters(request, days=90, grain="week", fields=("start", "end", "grain", "source"))
    report = funnel_report(actor=request.staff, shop=request.shop, span=span, grain=grain, source=source)
    context = {
        "form": form,
        "report": report,
        "chart": tables.funnel_chart(report.totals, label=_("Funnel")),
        "source_label": tables.SOURCE_LABELS[source],
    }
    return _page(request, "console/analytics/funnel.html", "funnel", span, tables.funnel_tables(report), context)


def _profit_spans(request) -> tuple[ProfitForm, DateRange, DateRange]:
    form = ProfitForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    current = DateRange.clamped(*_pick(data, "start", "end", DateRange.last_days(30)))
    default_base = current.previous()
    base = DateRange.clamped(*_pick(data, "base_start", "base_end", default_base))
    return form, base, current


def _pick(data: dict, first: str, last: str, default: DateRange) -> tuple[date, date]:
    return data.get(first) or default.first, data.get(last) or default.last


@staff_required(perm=VIEW)
@require_GET
def profit(request):
    form, base, current = _profit_spans(request)
    report = profit_report(actor=request.staff, shop=request.shop, base=base, current=current)
    context = {
        "form": form,
        "report": report,
        "revenue_chart": tables.effect_chart(report.revenue, FACTORS, label=_("Revenue change by factor")),
        "profit_chart": tables.effect_chart(
            report.gross_profit, PROFIT_FACTORS, label=_("Gross profit change by factor")
        ),
    }
    return _page(request, "console/analytics/profit.html", "profit", current, tables.profit_tables(report), context)


@staff_required(perm=VIEW)
@require_GET
def cohorts(request):
    today = timezone.localdate()
    form, span, _grain, source = _filters(request, days=365, grain="month", fields=("start", "end", "source"))
    if not request.GET.get("start"):
        span = DateRange.clamped((today - timedelta(days=335)).replace(day=1), span.last)
    report = cohorts_report(actor=request.staff, shop=request.shop, span=span, source=source)
    context = {
        "form": form,
        "report": report,
        "charts": tables.cohort_charts(report),
        "source_label": tables.SOURCE_LABELS[source],
    }
    return _page(
        request, "console/analytics/cohorts.html", "cohorts", report.span, tables.cohort_tables(report), context
    )


@staff_required(perm=VIEW)
@require_GET
def repurchase(request):
    form, span, _grain, _source = _filters(request, days=365, grain="month", fields=("start", "end"))
    report = repurchase_report(actor=request.staff, shop=request.shop, span=span)
    context = {"form": form, "report": report, "chart": tables.repurchase_chart(report), "min_gaps": MIN_GAPS}
    return _page(
        request, "console/analytics/repurchase.html", "repurchase", span, tables.repurchase_tables(report), context
    )


@staff_required(perm="catalog.manage")
@require_POST
def cycle_apply(request, public_id: str):
    """One click: the product's consumption cycle becomes the suggested one (the catalogue service
    checks the permission and the value)."""
    product = product_for_staff(shop=request.shop, public_id=public_id)
    try:
        product_update(actor=request.staff, product=product, data={"consumption_cycle_days": request.POST.get("days")})
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(product)s now reminds customers every %(days)s days.")
            % {"product": product.name, "days": product.consumption_cycle_days},
        )
    return redirect(_back(request))


def _back(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("console:analytics_repurchase")
