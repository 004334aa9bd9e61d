"""The analytics pages' tables and charts, built from the reports (siyu.analytics).

Each table is shown under its chart and is also what the CSV/Excel export writes, so the page and
the download never disagree. Money is yuan with two decimals (Decimal), rates are percentages.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from siyu.analytics import charts
from siyu.analytics.charts import PALETTE, Series
from siyu.analytics.cohorts import CohortReport
from siyu.analytics.funnel import SOURCES, FunnelReport, FunnelRow
from siyu.analytics.profit import FACTORS, PROFIT_FACTORS, Decomposition, ProfitReport
from siyu.analytics.repurchase import RepurchaseReport
from siyu.analytics.trends import TrendReport

SOURCE_LABELS = {
    "": gettext_lazy("All sources"),
    "organic": gettext_lazy("Organic"),
    "referral": gettext_lazy("Customer referral"),
    "promoter": gettext_lazy("Promoter"),
    "group": gettext_lazy("Community group"),
    "campaign": gettext_lazy("Campaign"),
}
FACTOR_LABELS = {
    "customers": gettext_lazy("Customers"),
    "aov": gettext_lazy("Average order value"),
    "frequency": gettext_lazy("Purchase frequency"),
    "margin": gettext_lazy("Margin"),
}


@dataclass
class Table:
    name: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)


def yuan(fen: int | Decimal | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def yuan_text(value: float) -> str:
    return f"¥{value / 100:,.0f}" if abs(value) >= 10000 else f"¥{value / 100:,.2f}"


def period_label(day: date, grain: str) -> str:
    return day.strftime("%Y-%m") if grain == "month" else day.strftime("%m-%d")


def _pct(value: float) -> str:
    return f"{value:.0f}%"


# --- trends --------------------------------------------------------------------------------


def trend_tables(report: TrendReport) -> list[Table]:
    g = report.grain
    series = Table(
        "trends",
        _("Trend by period"),
        [
            _("Period from"),
            _("Paid orders"),
            _("Revenue (yuan)"),
            _("Refunds (yuan)"),
            _("New buyers"),
            _("Returning buyers"),
            _("Average order value (yuan)"),
            _("Previous period from"),
            _("Previous paid orders"),
            _("Previous revenue (yuan)"),
        ],
    )
    for i, p in enumerate(report.points):
        prev = report.previous_points[i] if i < len(report.previous_points) else None
        series.rows.append(
            [
                period_label(p.period, g) if g != "day" else p.period.isoformat(),
                p.orders,
                yuan(p.revenue),
                yuan(p.refunds),
                p.new_buyers,
                p.returning_buyers,
                yuan(p.aov),
                prev.period.isoformat() if prev else None,
                prev.orders if prev else None,
                yuan(prev.revenue) if prev else None,
            ]
        )
    now, before = report.totals, report.previous_totals
    totals = Table(
        "totals",
        _("This period and the previous one"),
        [_("Figure"), _("This period"), _("Previous period"), _("Change %")],
    )
    for key, label, value, earlier in (
        ("orders", _("Paid orders"), now.orders, before.orders),
        ("revenue", _("Revenue (yuan)"), yuan(now.revenue), yuan(before.revenue)),
        ("refunds", _("Refunds (yuan)"), yuan(now.refunds), yuan(before.refunds)),
        ("new_buyers", _("New buyers"), now.new_buyers, before.new_buyers),
        ("returning_buyers", _("Returning buyers"), now.returning_buyers, before.returning_buyers),
        ("aov", _("Average order value (yuan)"), yuan(now.aov), yuan(before.aov)),
    ):
        totals.rows.append([label, value, earlier, report.changes.get(key)])
    return [totals, series]


def trend_charts(report: TrendReport) -> dict:
    labels = [period_label(p.period, report.grain) for p in report.points]

    def pair(name: str, metric: str) -> list[Series]:
        prev = [getattr(p, metric) for p in report.previous_points][: len(labels)]
        return [
            Series(_("Previous period"), prev, PALETTE[5], dashed=True),
            Series(name, [getattr(p, metric) for p in report.points], PALETTE[0]),
        ]

    return {
        "revenue": charts.line_chart(labels, pair(_("Revenue"), "revenue"), label=_("Revenue"), fmt=yuan_text),
        "orders": charts.bar_chart(labels, pair(_("Paid orders"), "orders")[::-1], label=_("Paid orders")),
        "buyers": charts.bar_chart(
            labels,
            [
                Series(_("New buyers"), [p.new_buyers for p in report.points], PALETTE[2]),
                Series(_("Returning buyers"), [p.returning_buyers for p in report.points], PALETTE[0]),
            ],
            label=_("New and returning buyers"),
            stacked=True,
        ),
        "aov": charts.line_chart(
            labels, pair(_("Average order value"), "aov"), label=_("Average order value"), fmt=yuan_text
        ),
        "refunds": charts.bar_chart(
            labels,
            [Series(_("Refunds"), [p.refunds for p in report.points], PALETTE[4])],
            label=_("Refunds"),
            fmt=yuan_text,
        ),
    }


# --- funnel --------------------------------------------------------------------------------

STAGE_LABELS = (
    gettext_lazy("Visitors (first contact)"),
    gettext_lazy("First order"),
    gettext_lazy("Second order"),
    gettext_lazy("Brought a buyer"),
)


def _funnel_cells(row: FunnelRow) -> list:
    return [
        row.visitors,
        row.first_order,
        row.second_order,
        row.referrer,
        row.first_rate,
        row.second_rate,
        row.referrer_rate,
    ]


def funnel_tables(report: FunnelReport) -> list[Table]:
    stages = [str(s) for s in STAGE_LABELS] + [
        _("First order / visitors %"),
        _("Second order / first order %"),
        _("Brought a buyer / buyers %"),
    ]
    sources = Table("sources", _("By source"), [_("Source"), *stages])
    for name in SOURCES:
        sources.rows.append([str(SOURCE_LABELS[name]), *_funnel_cells(report.by_source[name])])
    periods = Table("periods", _("By period of first contact"), [_("Period from"), *stages])
    for row in report.periods:
        periods.rows.append([row.period.isoformat() if row.period else "", *_funnel_cells(row)])
    gaps = Table("gaps", _("Days from first to second order"), [_("Days"), _("People")])
    gaps.rows = [[days, n] for days, n in report.gaps.items()]
    return [sources, periods, gaps]


def funnel_chart(row: FunnelRow, *, label: str):
    return charts.hbar_chart(
        [
            (str(STAGE_LABELS[0]), row.visitors, ""),
            (str(STAGE_LABELS[1]), row.first_order, f"{row.first_rate}%" if row.first_rate is not None else ""),
            (str(STAGE_LABELS[2]), row.second_order, f"{row.second_rate}%" if row.second_rate is not None else ""),
            (str(STAGE_LABELS[3]), row.referrer, f"{row.referrer_rate}%" if row.referrer_rate is not None else ""),
        ],
        label=label,
    )


# --- profit --------------------------------------------------------------------------------


def profit_tables(report: ProfitReport) -> list[Table]:
    b, c = report.base, report.current
    figures = Table(
        "figures",
        _("The two periods"),
        [_("Figure"), f"{b.span.first} – {b.span.last}", f"{c.span.first} – {c.span.last}"],
    )
    figures.rows = [
        [_("Customers"), b.customers, c.customers],
        [_("Paid orders"), b.orders, c.orders],
        [_("Revenue (yuan)"), yuan(b.revenue), yuan(c.revenue)],
        [_("Average order value (yuan)"), yuan(b.aov), yuan(c.aov)],
        [_("Purchase frequency (orders per customer)"), _round(b.frequency, "0.01"), _round(c.frequency, "0.01")],
        [
            _("Cost of goods (yuan)"),
            yuan(b.cost) if not b.lines_without_cost else None,
            yuan(c.cost) if not c.lines_without_cost else None,
        ],
        [_("Gross profit (yuan)"), yuan(b.gross_profit), yuan(c.gross_profit)],
        [
            _("Margin %"),
            _round(b.margin * 100 if b.margin is not None else None, "0.1"),
            _round(c.margin * 100 if c.margin is not None else None, "0.1"),
        ],
        [_("Lines without a cost price"), b.lines_without_cost, c.lines_without_cost],
    ]
    effects = Table(
        "effects",
        _("What moved the change (LMDI)"),
        [_("Factor"), _("Revenue effect (yuan)"), _("Gross profit effect (yuan)")],
    )
    for name in PROFIT_FACTORS:
        revenue = (report.revenue.effects or {}).get(name) if name in FACTORS else None
        profit = (report.gross_profit.effects or {}).get(name)
        effects.rows.append([str(FACTOR_LABELS[name]), yuan(revenue), yuan(profit)])
    effects.rows.append([_("Total change"), yuan(report.revenue.change), yuan(report.gross_profit.change)])
    return [figures, effects]


def _round(value: Decimal | None, places: str) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(places))


def effect_chart(decomposition: Decomposition, factors: tuple[str, ...], *, label: str):
    """The factors' effects; when the change cannot be split, the two values side by side."""
    effects = decomposition.effects
    if effects is None:
        if decomposition.before is None or decomposition.after is None:
            return None
        return charts.hbar_chart(
            [(_("Compared period"), decomposition.before, ""), (_("This period"), decomposition.after, "")],
            label=label,
            fmt=yuan_text,
        )
    return charts.hbar_chart(
        [(str(FACTOR_LABELS[name]), effects[name], "") for name in factors], label=label, fmt=yuan_text
    )


# --- cohorts -------------------------------------------------------------------------------


def cohort_tables(report: CohortReport) -> list[Table]:
    months = [f"M{k}" for k in range(report.width)]
    retention = Table(
        "retention", _("Retention % by months since the first order"), [_("Cohort"), _("Customers"), *months]
    )
    revenue = Table("revenue", _("Cumulative revenue per customer (yuan)"), [_("Cohort"), _("Customers"), *months])
    for cohort in report.cohorts:
        label = cohort.month.strftime("%Y-%m")
        retention.rows.append([label, cohort.size, *[c.retention for c in cohort.cells]])
        revenue.rows.append([label, cohort.size, *[yuan(c.cumulative_per_customer) for c in cohort.cells]])
    return [retention, revenue]


def cohort_charts(report: CohortReport) -> dict:
    rows = [f"{c.month:%Y-%m} ({c.size})" for c in report.cohorts]
    columns = [f"M{k}" for k in range(report.width)]

    def grid(pick, text):
        return [
            [(pick(cell), text(cell)) if cohort.size else None for cell in cohort.cells]
            + [None] * (report.width - len(cohort.cells))
            for cohort in report.cohorts
        ]

    return {
        "retention": charts.heatmap(
            rows,
            columns,
            grid(lambda c: c.retention, lambda c: f"{c.retention:.0f}%" if c.retention is not None else ""),
            label=_("Retention"),
            top=100,
        ),
        "revenue": charts.heatmap(
            rows,
            columns,
            grid(
                lambda c: c.cumulative_per_customer,
                lambda c: f"{(c.cumulative_per_customer or 0) / 100:.0f}",
            ),
            label=_("Cumulative revenue per customer"),
        ),
    }


# --- repurchase ----------------------------------------------------------------------------


def repurchase_tables(report: RepurchaseReport) -> list[Table]:
    products = Table(
        "products",
        _("By product"),
        [
            _("Product"),
            _("Buyers"),
            _("Repeat buyers"),
            _("Repurchase rate %"),
            _("Gaps seen"),
            _("Median days between purchases"),
            _("Suggested cycle (days)"),
            _("Current cycle (days)"),
        ],
    )
    for r in report.products:
        products.rows.append(
            [r.name, r.buyers, r.repeat_buyers, r.rate, r.gaps, r.median_days, r.suggested_cycle, r.current_cycle]
        )
    categories = Table(
        "categories", _("By category"), [_("Category"), _("Buyers"), _("Repeat buyers"), _("Repurchase rate %")]
    )
    for r in report.categories:
        categories.rows.append([r.name or _("No category"), r.buyers, r.repeat_buyers, r.rate])
    gaps = Table("gaps", _("Days between a buyer's orders"), [_("Days"), _("Orders")])
    gaps.rows = [[_bin_label(b.low, b.high), b.count] for b in report.histogram]
    return [products, categories, gaps]


def _bin_label(low: int, high: int | None) -> str:
    return f"{low}–{high}" if high is not None else f"{low}+"


def repurchase_chart(report: RepurchaseReport):
    labels = [_bin_label(b.low, b.high) for b in report.histogram]
    return charts.bar_chart(
        labels, [Series(_("Orders"), [b.count for b in report.histogram], PALETTE[2])], label=_("Days between orders")
    )
