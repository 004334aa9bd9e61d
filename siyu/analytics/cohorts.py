"""Monthly acquisition cohorts: buyers grouped by the month of their first paid order in the shop,
followed month by month.

- cohort size: buyers whose first paid order falls in the month;
- retention in month k (k = 0 is the first month): the share of the cohort with a paid order in the
  k-th calendar month after it (month 0 is 100% by definition);
- cumulative revenue per customer by month k: what the cohort paid, net of refunds, in months 0..k,
  divided by the cohort's size (fen, rounded half up).
Months are local calendar months. A cohort is followed up to the current month only. Filter by the
buyer's source (see siyu.analytics.funnel). One query.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import timezone

from siyu.core.db_router import replica_reads
from siyu.core.permissions import Actor, require
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .dash_sql import DateRange, as_date, buckets, fetch, months_between, per, rate, table, trunc_sql, when
from .funnel import SOURCES, buyers_sql
from .models import BuyerSummary

MAX_MONTHS = 36


@dataclass
class CohortCell:
    month: int  # months since the first order
    active: int
    revenue: int  # fen, this month
    retention: Decimal | None  # percent of the cohort
    cumulative_per_customer: int | None  # fen


@dataclass
class Cohort:
    month: date
    size: int
    cells: list[CohortCell] = field(default_factory=list)


@dataclass
class CohortReport:
    span: DateRange
    source: str
    cohorts: list[Cohort]
    width: int  # months shown (the oldest cohort's age + 1)


def _cells_sql(shop_id: int, span: DateRange, source: str) -> tuple[str, list]:
    """(cohort, month, active buyers, revenue) of the buyers whose first paid order is in `span`.
    Buyers come from the buyer summary (its first paid order), so only the orders paid since the
    range began are read; they are grouped per buyer and month first, then counted, which the
    databases do by hashing instead of sorting every order for a COUNT(DISTINCT)."""
    cohort_sql, cohort_params = trunc_sql("f.first_at", "month")
    month_sql, month_params = trunc_sql("o.paid_at", "month")
    if source:
        buyers, buyer_params = buyers_sql(shop_id)
        buyers = f"SELECT shopper_id, first_at FROM ({buyers}) s WHERE s.source = %s"
        buyer_params = [*buyer_params, source]
    else:
        buyers = f"SELECT shopper_id, first_paid_at AS first_at FROM {table(BuyerSummary)} WHERE shop_id = %s"
        buyer_params = [shop_id]
    sql = f"""SELECT cohort, month, COUNT(*), SUM(revenue) FROM (
            SELECT {cohort_sql} AS cohort, {month_sql} AS month, o.shopper_id,
                   SUM(o.paid_amount - o.refunded_amount) AS revenue
            FROM {table(Order)} o JOIN ({buyers}) f ON f.shopper_id = o.shopper_id
            WHERE o.shop_id = %s AND o.paid_at >= %s AND f.first_at >= %s AND f.first_at < %s
            GROUP BY 1, 2, 3) per_buyer
        GROUP BY cohort, month"""
    start, end = when(span.start), when(span.end)
    return sql, [*cohort_params, *month_params, *buyer_params, shop_id, start, start, end]


@replica_reads()
def cohorts_report(*, actor: Actor | None, shop: Shop, span: DateRange, source: str = "") -> CohortReport:
    """Cohorts whose first order falls in `span` (whole months, at most MAX_MONTHS). One query."""
    require(actor, "analytics.view", shop_id=shop.pk)
    if source not in ("", *SOURCES):
        raise ValueError(f"unknown source {source}")
    span = DateRange.clamped(span.first, span.last, max_days=MAX_MONTHS * 31).aligned("month")
    months = buckets(span, "month")[-MAX_MONTHS:]
    span = DateRange(months[0], span.last)
    rows = fetch(*_cells_sql(shop.pk, span, source))
    cells: dict[date, dict[int, tuple[int, int]]] = {m: {} for m in months}
    for cohort, month, active, revenue in rows:
        start = as_date(cohort)
        if start in cells:
            cells[start][months_between(start, as_date(month))] = (int(active), int(revenue or 0))  # type: ignore[arg-type]
    this_month = timezone.localdate().replace(day=1)
    report = CohortReport(span=span, source=source, cohorts=[], width=0)
    for start, found in cells.items():
        size = found.get(0, (0, 0))[0]
        cohort = Cohort(month=start, size=size)
        running = 0
        for k in range(max(months_between(start, this_month), 0) + 1):
            active, revenue = found.get(k, (0, 0))
            running += revenue
            cohort.cells.append(CohortCell(k, active, revenue, rate(active, size), per(running, size)))
        report.width = max(report.width, len(cohort.cells))
        report.cohorts.append(cohort)
    return report
