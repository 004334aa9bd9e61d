"""The four-stage funnel: people who came → first order → second order → brought someone who paid.

It is a cohort funnel: the people counted are those whose first contact with the shop falls in the
range (or period), followed to today, so each stage is a subset of the one before (stage 4 of
stage 2: buyers who brought a buyer) and the periods add up to the range.

- Stage 1, "visitors": the shop records no anonymous page views per person, so the first stage is
  people the shop can tell apart: a shopper's first contact is the earliest of their first sign-in
  to the shop (accepting its agreement), their first order placed (paid or not) and their referral
  binding. Share-link visits of people who never signed in are on the fission page.
- Stage 2: a first paid order (ever); stage 3: a second paid order; stage 4: a buyer whose share
  code brought someone else's paid order in the shop (the order's `ref_code`, or someone bound to
  them by a referral who has paid).
- Median days from the first to the second paid order, for those who made one.

Source of a person — the code that brought them: their referral binding's code, else their first
paid order's `ref_code`. A code of an approved (or since suspended) promoter of the shop is
"promoter", any other shopper's code "referral", no code (or a staff member's) "organic". Group
(社群) and campaign sources have no record in the shop yet and read 0 until those domains exist.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from siyu.accounts.models import AgreementAcceptance, Shopper
from siyu.core.db_router import replica_reads
from siyu.core.permissions import Actor, require
from siyu.distribution.models import Promoter
from siyu.orders.models import Order
from siyu.referrals.models import ReferralBinding
from siyu.shops.models import Shop

from .dash_sql import (
    GRAINS,
    DateRange,
    as_date,
    buckets,
    days_between_sql,
    fetch,
    median_of_counts,
    rate,
    table,
    trunc_sql,
    when,
)
from .models import BuyerSummary

SOURCES = ("organic", "referral", "promoter", "group", "campaign")
RECORDED_SOURCES = ("organic", "referral", "promoter")  # group and campaign: no record yet
STAGES = ("visitors", "first_order", "second_order", "referrer")
PROMOTER_STATUSES = (Promoter.Status.APPROVED.value, Promoter.Status.SUSPENDED.value)


def _firsts_sql(shop_id: int) -> tuple[str, list]:
    """Per buyer: first and second paid order times and the first paid order's ref code, read from
    the buyer summary (one row per buyer, kept by the order events) rather than by ranking every
    paid order of the shop."""
    sql = f"""
        SELECT shopper_id, first_paid_at AS first_at, second_paid_at AS second_at, first_ref_code AS first_ref
        FROM {table(BuyerSummary)} WHERE shop_id = %s AND first_paid_at IS NOT NULL"""
    return sql, [shop_id]


def _source_sql(base: str, base_params: list, shop_id: int) -> tuple[str, list]:
    """`base` (rows with shopper_id and code) with its source named."""
    sql = f"""
        SELECT base.*,
               CASE WHEN pr.id IS NOT NULL THEN 'promoter'
                    WHEN sh.id IS NOT NULL THEN 'referral'
                    ELSE 'organic' END AS source
        FROM ({base}) base
        LEFT JOIN {table(Shopper)} sh ON base.code <> '' AND sh.share_code = base.code
        LEFT JOIN {table(Promoter)} pr ON pr.shop_id = %s AND pr.shopper_id = sh.id AND pr.status IN (%s, %s)"""
    return sql, [*base_params, shop_id, *PROMOTER_STATUSES]


def buyers_sql(shop_id: int) -> tuple[str, list]:
    """Every buyer of the shop: shopper_id, first_at, second_at, source."""
    firsts, params = _firsts_sql(shop_id)
    base = f"""
        SELECT f.shopper_id, f.first_at, f.second_at,
               COALESCE(NULLIF(b.code, ''), f.first_ref, '') AS code
        FROM ({firsts}) f
        LEFT JOIN {table(ReferralBinding)} b ON b.shop_id = %s AND b.referee_id = f.shopper_id"""
    return _source_sql(base, [*params, shop_id], shop_id)


def _people_sql(shop_id: int, span: DateRange) -> tuple[str, list]:
    """People whose first contact falls in `span`: shopper_id, seen_at, first_at, second_at, source.
    The first order placed comes from the buyer summary too, so no query groups the orders."""
    summaries = table(BuyerSummary)
    contacts = f"""
        SELECT shopper_id, MIN(at) AS seen_at FROM (
            SELECT shopper_id, accepted_at AS at FROM {table(AgreementAcceptance)} WHERE shop_id = %s
            UNION ALL SELECT shopper_id, first_placed_at FROM {summaries} WHERE shop_id = %s
            UNION ALL SELECT referee_id, bound_at FROM {table(ReferralBinding)} WHERE shop_id = %s
        ) touches
        GROUP BY shopper_id
        HAVING MIN(at) >= %s AND MIN(at) < %s"""
    base = f"""
        SELECT c.shopper_id, c.seen_at, f.first_paid_at AS first_at, f.second_paid_at AS second_at,
               COALESCE(NULLIF(b.code, ''), f.first_ref_code, '') AS code
        FROM ({contacts}) c
        LEFT JOIN {summaries} f ON f.shop_id = %s AND f.shopper_id = c.shopper_id
        LEFT JOIN {table(ReferralBinding)} b ON b.shop_id = %s AND b.referee_id = c.shopper_id"""
    params = [shop_id, shop_id, shop_id, when(span.start), when(span.end), shop_id, shop_id]
    return _source_sql(base, params, shop_id)


def _referrers_sql(shop_id: int) -> tuple[str, list]:
    """Shoppers whose code brought someone else's paid order, or who are bound as the referrer of
    someone who has paid (UNION: each once)."""
    orders, shoppers, bindings = table(Order), table(Shopper), table(ReferralBinding)
    sql = f"""
        SELECT s.id AS referrer_id FROM {orders} o JOIN {shoppers} s ON s.share_code = o.ref_code
        WHERE o.shop_id = %s AND o.paid_at IS NOT NULL AND o.ref_code <> '' AND o.shopper_id <> s.id
        UNION
        SELECT b.referrer_shopper_id FROM {bindings} b
        JOIN {table(BuyerSummary)} p ON p.shop_id = %s AND p.shopper_id = b.referee_id
        WHERE b.shop_id = %s AND b.referrer_shopper_id IS NOT NULL AND p.first_paid_at IS NOT NULL"""
    return sql, [shop_id, shop_id, shop_id]


@dataclass
class FunnelRow:
    """One period (or the whole range) of one source, or of all sources."""

    period: date | None
    source: str
    visitors: int = 0
    first_order: int = 0
    second_order: int = 0
    referrer: int = 0

    def add(self, other: "FunnelRow") -> None:
        for stage in STAGES:
            setattr(self, stage, getattr(self, stage) + getattr(other, stage))

    @property
    def first_rate(self) -> Decimal | None:
        return rate(self.first_order, self.visitors)

    @property
    def second_rate(self) -> Decimal | None:
        return rate(self.second_order, self.first_order)

    @property
    def referrer_rate(self) -> Decimal | None:
        """Of buyers (stage 2), the share who brought a buyer."""
        return rate(self.referrer, self.first_order)


@dataclass
class FunnelReport:
    span: DateRange
    grain: str
    source: str  # "" for all sources
    totals: FunnelRow  # the range, the chosen source(s)
    by_source: dict[str, FunnelRow]  # the range, every source (group and campaign: 0)
    periods: list[FunnelRow]  # per period, the chosen source(s)
    median_days_to_second: Decimal | None
    gaps: dict[int, int] = field(default_factory=dict)  # days first→second order → people


@replica_reads()
def funnel_report(
    *, actor: Actor | None, shop: Shop, span: DateRange, grain: str = "week", source: str = ""
) -> FunnelReport:
    """The funnel of people who first came in `span`, by period and by source. Two queries."""
    require(actor, "analytics.view", shop_id=shop.pk)
    if grain not in GRAINS or source not in ("", *SOURCES):
        raise ValueError("unknown grain or source")
    people, params = _people_sql(shop.pk, span)
    referrers, referrer_params = _referrers_sql(shop.pk)
    period_sql, period_params = trunc_sql("p.seen_at", grain)
    rows = fetch(
        f"""SELECT {period_sql} AS period, p.source, COUNT(*), COUNT(p.first_at), COUNT(p.second_at),
                   COUNT(CASE WHEN p.first_at IS NOT NULL THEN r.referrer_id END)
            FROM ({people}) p LEFT JOIN ({referrers}) r ON r.referrer_id = p.shopper_id
            GROUP BY 1, 2""",
        [*period_params, *params, *referrer_params],
    )
    gap_rows = fetch(
        f"""SELECT p.source, {days_between_sql("p.first_at", "p.second_at")} AS days, COUNT(*)
            FROM ({people}) p WHERE p.second_at IS NOT NULL GROUP BY 1, 2""",
        params,
    )
    by_source = {name: FunnelRow(period=None, source=name) for name in SOURCES}
    by_period = {b: FunnelRow(period=b, source=source) for b in buckets(span, grain)}
    totals = FunnelRow(period=None, source=source)
    for period, row_source, *counts in rows:
        row = FunnelRow(as_date(period), row_source, *(int(n) for n in counts))
        by_source[row_source].add(row)
        if source in ("", row_source):
            totals.add(row)
            if row.period in by_period:
                by_period[row.period].add(row)
    gaps: dict[int, int] = {}
    for row_source, days, n in gap_rows:
        if source in ("", row_source):
            gaps[int(days)] = gaps.get(int(days), 0) + int(n)
    return FunnelReport(
        span=span,
        grain=grain,
        source=source,
        totals=totals,
        by_source=by_source,
        periods=list(by_period.values()),
        median_days_to_second=median_of_counts(gaps),
        gaps=dict(sorted(gaps.items())),
    )
