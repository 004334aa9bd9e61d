"""Sales trends by day, week or month, with the previous period of equal length beside them.

Definitions (every figure on the dashboards uses them):
- paid orders: orders paid in the period (`paid_at`), later refunds included;
- refunds: what has been refunded on those orders so far, so a period's revenue can still fall
  when a later refund arrives;
- revenue: paid − refunded, in fen;
- buyers: distinct shoppers with a paid order in the period; a buyer is new in the period that
  holds their first paid order in this shop ever, returning otherwise;
- average order value (AOV): revenue ÷ paid orders, rounded half up to the fen.
Two queries whatever the range: the series (grouped by period), and the totals of both ranges
(distinct buyers cannot be summed from the periods).

A week or month is the local calendar's (Monday-first weeks); ranges are widened to whole periods
for those grains. Refunds are attributed to the period the order was paid in.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from siyu.core.db_router import replica_reads
from siyu.core.permissions import Actor, require
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .dash_sql import GRAINS, DateRange, as_date, bucket_of, buckets, change, fetch, per, table, trunc_sql, when
from .models import BuyerSummary

METRICS = ("orders", "revenue", "refunds", "new_buyers", "returning_buyers", "aov")


@dataclass
class TrendPoint:
    period: date
    orders: int = 0
    paid: int = 0
    refunds: int = 0
    buyers: int = 0
    new_buyers: int = 0

    @property
    def revenue(self) -> int:
        return self.paid - self.refunds

    @property
    def returning_buyers(self) -> int:
        return self.buyers - self.new_buyers

    @property
    def aov(self) -> int | None:
        return per(self.revenue, self.orders)


@dataclass
class TrendReport:
    span: DateRange
    previous_span: DateRange
    grain: str
    points: list[TrendPoint]  # this range, one per period
    previous_points: list[TrendPoint]  # the previous range, period by period
    totals: TrendPoint
    previous_totals: TrendPoint
    changes: dict[str, Decimal | None] = field(default_factory=dict)  # metric → % change


_FIGURES = ("orders", "paid", "refunds", "buyers", "new_buyers")


def _figures_sql(condition: str) -> str:
    """The five figures of the rows matching `condition` (SQL on o and f, no parameters)."""
    return (
        f"COUNT(CASE WHEN {condition} THEN 1 END), "
        f"COALESCE(SUM(CASE WHEN {condition} THEN o.paid_amount END), 0), "
        f"COALESCE(SUM(CASE WHEN {condition} THEN o.refunded_amount END), 0), "
        f"COUNT(DISTINCT CASE WHEN {condition} THEN o.shopper_id END), "
        f"COUNT(DISTINCT CASE WHEN {condition} AND o.paid_at = f.first_at THEN o.shopper_id END)"
    )


def _orders_sql(shop_id: int, start: datetime, end: datetime) -> tuple[str, list]:
    """Paid orders of [start, end) as `o`, each with `f.first_at`, its shopper's first paid order in
    the shop ever, from the buyer summary. A LEFT JOIN: an order whose events the worker has not
    handled yet still counts in orders, revenue and buyers (and as returning until it has)."""
    sql = f"""
        FROM {table(Order)} o
        LEFT JOIN (SELECT shopper_id, first_paid_at AS first_at FROM {table(BuyerSummary)} WHERE shop_id = %s) f
               ON f.shopper_id = o.shopper_id
        WHERE o.shop_id = %s AND o.paid_at >= %s AND o.paid_at < %s"""
    return sql, [shop_id, shop_id, when(start), when(end)]


def _point(period: date, values) -> TrendPoint:
    return TrendPoint(period, *(int(v or 0) for v in values))


@replica_reads()
def trends_report(*, actor: Actor | None, shop: Shop, span: DateRange, grain: str = "day") -> TrendReport:
    """The series and totals of `span` (widened to whole weeks or months for those grains) and of
    the range of equal length before it. Two queries."""
    require(actor, "analytics.view", shop_id=shop.pk)
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain}")
    span = span.aligned(grain)
    previous = span.previous(grain)
    source, params = _orders_sql(shop.pk, previous.start, span.end)
    period_sql, period_params = trunc_sql("o.paid_at", grain)
    rows = {
        as_date(row[0]): row[1:]
        for row in fetch(f"SELECT {period_sql}, {_figures_sql('1 = 1')} {source} GROUP BY 1", [*period_params, *params])
    }
    now = "o.paid_at >= %s"  # five times in each half of the SELECT
    totals = fetch(
        f"SELECT {_figures_sql(now)}, {_figures_sql(f'NOT ({now})')} {source}", [when(span.start)] * 10 + params
    )[0]

    def series(part: DateRange) -> list[TrendPoint]:
        return [_point(b, rows.get(b, (0,) * 5)) for b in buckets(part, grain)]

    report = TrendReport(
        span=span,
        previous_span=previous,
        grain=grain,
        points=series(span),
        previous_points=series(previous),
        totals=_point(bucket_of(span.first, grain), totals[:5]),
        previous_totals=_point(bucket_of(previous.first, grain), totals[5:]),
    )
    report.changes = {
        name: change(getattr(report.totals, name), getattr(report.previous_totals, name)) for name in METRICS
    }
    return report
