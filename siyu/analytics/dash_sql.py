"""What the dashboards share: the date range and grain, SQL that reads the same on SQLite and
PostgreSQL, and small arithmetic on grouped rows.

Every dashboard query is one aggregate statement whose result has as many rows as there are
periods, sources, cohorts or distinct day gaps, never one row per order or per customer, so a page
costs a fixed number of queries and its transfer does not grow with the shop.

Raw statements bypass the database router, so `fetch` asks it where a read of orders should go
now; inside `replica_reads()` that may be a replica. Statements start with SELECT (derived tables,
not WITH): the router treats a WITH on the primary as a possible write.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connections, router
from django.utils import timezone

from siyu.orders.models import Order

GRAINS = ("day", "week", "month")
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
MAX_RANGE_DAYS = 731  # two years: longer asks are cut, so a page's size stays bounded


@dataclass(frozen=True)
class DateRange:
    """Whole local days from `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def clamped(cls, first: date, last: date, *, max_days: int = MAX_RANGE_DAYS) -> "DateRange":
        """A range any input can make: dates kept within 2000–2099, swapped when reversed, and cut
        to `max_days` (keeping the end, the part people look at)."""
        first, last = min(max(first, EARLIEST), LATEST), min(max(last, EARLIEST), LATEST)
        if first > last:
            first, last = last, first
        if (last - first).days >= max_days:
            first = last - timedelta(days=max_days - 1)
        return cls(first, last)

    @classmethod
    def last_days(cls, days: int, *, today: date | None = None) -> "DateRange":
        today = today or timezone.localdate()
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def aligned(self, grain: str) -> "DateRange":
        """Widened to whole weeks (Monday to Sunday) or whole months, so no period is cut."""
        first = bucket_of(self.first, grain)
        last = _next_bucket(bucket_of(self.last, grain), grain) - timedelta(days=1)
        return DateRange(first, min(last, LATEST))

    def previous(self, grain: str = "day") -> "DateRange":
        """The range of equal length just before this one: as many days, or for whole months as
        many months (so March is compared with February, not with 31 days back)."""
        if grain == "month" and self.first.day == 1 and _next_bucket(self.last, "day").day == 1:
            months = months_between(self.first, self.last) + 1
            start = self.first
            for _ in range(months):
                start = (start - timedelta(days=1)).replace(day=1)
            return DateRange(start, self.first - timedelta(days=1))
        return DateRange(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    @property
    def start(self) -> datetime:
        """Local midnight that opens the range, as an aware datetime."""
        return _midnight(self.first)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day (exclusive)."""
        return _midnight(self.last + timedelta(days=1))


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day), timezone.get_current_timezone())


def bucket_of(day: date, grain: str) -> date:
    """The first day of the day/week/month that `day` falls in (weeks start on Monday, as the
    databases' date_trunc does)."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def buckets(span: DateRange, grain: str) -> list[date]:
    """Every period that the range touches, oldest first, so empty periods show as zero."""
    out: list[date] = []
    current = bucket_of(span.first, grain)
    while current <= span.last:
        out.append(current)
        current = _next_bucket(current, grain)
    return out


def _next_bucket(day: date, grain: str) -> date:
    if grain == "month":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return day + timedelta(days=7 if grain == "week" else 1)


def months_between(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def as_date(value: Any) -> date | None:
    """A truncated period as a date, whichever type the backend returned it in (SQLite: text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- SQL -----------------------------------------------------------------------------------


def connection_for_reads():
    return connections[router.db_for_read(Order)]


def table(model) -> str:
    return connection_for_reads().ops.quote_name(model._meta.db_table)


def trunc_sql(column: str, grain: str) -> tuple[str, list]:
    """`column` (a UTC timestamp) cut to the local day/week/month: Django's own expression for
    the backend, so periods match what the ORM's Trunc gives elsewhere."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain}")
    tzname = timezone.get_current_timezone_name()
    sql, params = connection_for_reads().ops.datetime_trunc_sql(grain, column, (), tzname)
    return sql, list(params)


def when(value: datetime):
    """A datetime as a raw statement's parameter: UTC text on SQLite, as stored there."""
    return connection_for_reads().ops.adapt_datetimefield_value(value)


def days_between_sql(earlier: str, later: str) -> str:
    """Whole days elapsed from `earlier` to `later` (rounded down)."""
    if connection_for_reads().vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400) AS INTEGER)"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection_for_reads().cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


# --- arithmetic ----------------------------------------------------------------------------


def median_of_counts(counts: dict[int, int]) -> Decimal | None:
    """The median of values given as {value: how many}: the middle one, or the mean of the two
    middle ones. None when there are none."""
    total = sum(counts.values())
    if not total:
        return None
    wanted = [(total - 1) // 2, total // 2]  # zero-based positions of the middle value(s)
    found: list[int] = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while wanted and wanted[0] < seen:
            found.append(value)
            wanted.pop(0)
    return (Decimal(found[0]) + Decimal(found[1])) / 2


def rate(part: int, whole: int) -> Decimal | None:
    """part ÷ whole as a percentage with one decimal; None without a whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def change(current: int | Decimal | None, previous: int | Decimal | None) -> Decimal | None:
    """Period-over-period change in percent (one decimal); None when the previous is 0 or unknown."""
    if current is None or not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def per(amount: int, count: int) -> int | None:
    """amount ÷ count in whole fen, rounded half up; None when count is 0."""
    if not count:
        return None
    return int((Decimal(amount) / Decimal(count)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def merge_counts(rows: Iterable[tuple[Any, int]]) -> dict[Any, int]:
    out: dict[Any, int] = {}
    for key, n in rows:
        out[key] = out.get(key, 0) + int(n)
    return out
