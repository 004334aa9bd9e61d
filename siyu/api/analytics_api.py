"""API operations for analytics.

`console_router` joins /api/v1/console/, `storefront_router` joins /api/v1/storefront/.

The console's dashboards as JSON, the same reports as the 分析 pages (siyu.analytics): trends,
the four-stage funnel, the profit identity, cohorts and repurchase. Every one needs
analytics.view (checked by the report). Dates are local calendar days, both ends included; a
range is kept within 2000–2099, a reversed one is swapped and a longer one than two years is cut
to its last two years, so any dates the schema allows give an answer. Money is integer fen.
"""

from datetime import date
from decimal import Decimal
from typing import Literal

from ninja import Field, Query, Router, Schema

from siyu.analytics.cohorts import cohorts_report
from siyu.analytics.dash_sql import DateRange
from siyu.analytics.funnel import funnel_report
from siyu.analytics.profit import profit_report
from siyu.analytics.repurchase import repurchase_report
from siyu.analytics.trends import trends_report

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS

console_router = Router(tags=["console analytics"], auth=staff_auth)
storefront_router = Router(tags=["storefront analytics"], auth=shopper_auth)

Source = Literal["", "organic", "referral", "promoter", "group", "campaign"]


class RangeIn(Schema):
    start: date | None = Field(None, description="First day (local). Default: 29 days before `end`.")
    end: date | None = Field(None, description="Last day (local), included. Default: today.")


class TrendIn(RangeIn):
    grain: Literal["day", "week", "month"] = Field("day", description="Periods of the series.")


class FunnelIn(RangeIn):
    grain: Literal["day", "week", "month"] = Field("week", description="Periods of first contact.")
    source: Source = Field("", description="Only people of this source; empty for all.")


class CohortIn(RangeIn):
    source: Source = Field("", description="Only buyers of this source; empty for all.")


class ProfitIn(RangeIn):
    base_start: date | None = Field(
        None, description="First day of the period compared with. Default: the previous period of equal length."
    )
    base_end: date | None = Field(None, description="Last day of the period compared with.")


def _span(q: RangeIn, *, days: int = 30) -> DateRange:
    default = DateRange.last_days(days)
    end = q.end or default.last
    start = q.start or DateRange.last_days(days, today=DateRange.clamped(end, end).last).first
    return DateRange.clamped(start, end)


class TrendPointOut(Schema):
    period: date
    orders: int
    paid: int
    refunds: int
    revenue: int
    buyers: int
    new_buyers: int
    returning_buyers: int
    aov: int | None


class TrendOut(Schema):
    start: date
    end: date
    previous_start: date
    previous_end: date
    grain: str
    points: list[TrendPointOut]
    previous_points: list[TrendPointOut]
    totals: TrendPointOut
    previous_totals: TrendPointOut
    changes: dict[str, Decimal | None] = Field(
        description="Percent change of each figure; null when the previous is 0."
    )


def _point(p) -> dict:
    names = ("period", "orders", "paid", "refunds", "revenue", "buyers", "new_buyers", "returning_buyers", "aov")
    return {name: getattr(p, name) for name in names}


@console_router.get("/analytics/trends", response={200: TrendOut, **ERRORS})
def trends(request, q: Query[TrendIn]):
    """Paid orders, revenue, refunds, new and returning buyers and AOV per period, with the
    previous period of equal length (weeks and months are widened to whole periods)."""
    report = trends_report(actor=request.auth, shop=request.shop, span=_span(q), grain=q.grain)
    return {
        "start": report.span.first,
        "end": report.span.last,
        "previous_start": report.previous_span.first,
        "previous_end": report.previous_span.last,
        "grain": report.grain,
        "points": [_point(p) for p in report.points],
        "previous_points": [_point(p) for p in report.previous_points],
        "totals": _point(report.totals),
        "previous_totals": _point(report.previous_totals),
        "changes": report.changes,
    }


class FunnelRowOut(Schema):
    period: date | None
    source: str
    visitors: int
    first_order: int
    second_order: int
    referrer: int
    first_rate: Decimal | None
    second_rate: Decimal | None
    referrer_rate: Decimal | None = Field(description="Buyers who brought a buyer, percent of buyers.")


class AnalyticsFunnelOut(Schema):
    start: date
    end: date
    totals: FunnelRowOut
    by_source: list[FunnelRowOut]
    periods: list[FunnelRowOut]
    median_days_to_second: Decimal | None
    gaps: dict[int, int] = Field(description="Days from the first to the second paid order → people.")


def _row(r) -> dict:
    names = ("period", "source", "visitors", "first_order", "second_order", "referrer")
    return {
        **{n: getattr(r, n) for n in names},
        "first_rate": r.first_rate,
        "second_rate": r.second_rate,
        "referrer_rate": r.referrer_rate,
    }


@console_router.get("/analytics/funnel", response={200: AnalyticsFunnelOut, **ERRORS})
def funnel(request, q: Query[FunnelIn]):
    """Visitors → first order → second order → brought a buyer, for people whose first contact
    falls in the range; by source and by period."""
    span = _span(q, days=90)
    report = funnel_report(actor=request.auth, shop=request.shop, span=span, grain=q.grain, source=q.source)
    return {
        "start": span.first,
        "end": span.last,
        "totals": _row(report.totals),
        "by_source": [_row(r) for r in report.by_source.values()],
        "periods": [_row(r) for r in report.periods],
        "median_days_to_second": report.median_days_to_second,
        "gaps": report.gaps,
    }


class PeriodFiguresOut(Schema):
    start: date
    end: date
    customers: int
    orders: int
    revenue: int
    cost: int
    lines_without_cost: int
    gross_profit: int | None = Field(description="null when some goods sold have no cost price.")


class DecompositionOut(Schema):
    before: int | None
    after: int | None
    change: int | None
    effects: dict[str, int] | None = Field(description="LMDI effect of each factor (fen); they add up to `change`.")


class ProfitOut(Schema):
    base: PeriodFiguresOut
    current: PeriodFiguresOut
    revenue: DecompositionOut
    gross_profit: DecompositionOut


def _figures(f) -> dict:
    names = ("customers", "orders", "revenue", "cost", "lines_without_cost", "gross_profit")
    return {"start": f.span.first, "end": f.span.last, **{n: getattr(f, n) for n in names}}


def _split(d) -> dict:
    return {"before": d.before, "after": d.after, "change": d.change, "effects": d.effects}


@console_router.get("/analytics/profit", response={200: ProfitOut, **ERRORS})
def profit(request, q: Query[ProfitIn]):
    """Revenue = customers × AOV × frequency (and gross profit × margin) for two periods, the
    change split over the factors with the additive LMDI."""
    current = _span(q)
    previous = current.previous()
    base = DateRange.clamped(q.base_start or previous.first, q.base_end or previous.last)
    report = profit_report(actor=request.auth, shop=request.shop, base=base, current=current)
    return {
        "base": _figures(report.base),
        "current": _figures(report.current),
        "revenue": _split(report.revenue),
        "gross_profit": _split(report.gross_profit),
    }


class CohortCellOut(Schema):
    month: int
    active: int
    revenue: int
    retention: Decimal | None
    cumulative_per_customer: int | None


class CohortOut(Schema):
    month: date
    size: int
    cells: list[CohortCellOut]


class CohortsOut(Schema):
    start: date
    end: date
    cohorts: list[CohortOut]


@console_router.get("/analytics/cohorts", response={200: CohortsOut, **ERRORS})
def cohorts(request, q: Query[CohortIn]):
    """Monthly acquisition cohorts × months since the first order: retention and cumulative
    revenue per customer (at most 36 cohorts)."""
    report = cohorts_report(actor=request.auth, shop=request.shop, span=_span(q, days=365), source=q.source)
    return {"start": report.span.first, "end": report.span.last, "cohorts": report.cohorts}


class RepurchaseRowOut(Schema):
    name: str
    public_id: str
    buyers: int
    repeat_buyers: int
    rate: Decimal | None
    gaps: int
    median_days: Decimal | None
    suggested_cycle: int | None
    current_cycle: int | None


class HistogramBinOut(Schema):
    low: int
    high: int | None
    count: int


class RepurchaseOut(Schema):
    start: date
    end: date
    buyers: int
    repeat_buyers: int
    rate: Decimal | None
    median_days_between_orders: Decimal | None
    products: list[RepurchaseRowOut]
    categories: list[RepurchaseRowOut]
    histogram: list[HistogramBinOut]


@console_router.get("/analytics/repurchase", response={200: RepurchaseOut, **ERRORS})
def repurchase(request, q: Query[RangeIn]):
    """Repurchase rate by product and category, days between orders, and each product's suggested
    consumption cycle (apply it with PATCH /console/products/{id})."""
    span = _span(q, days=365)
    report = repurchase_report(actor=request.auth, shop=request.shop, span=span)
    return {
        "start": span.first,
        "end": span.last,
        "buyers": report.buyers,
        "repeat_buyers": report.repeat_buyers,
        "rate": report.rate,
        "median_days_between_orders": report.median_days_between_orders,
        "products": report.products,
        "categories": report.categories,
        "histogram": report.histogram,
    }
