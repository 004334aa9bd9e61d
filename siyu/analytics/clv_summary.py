"""Each customer's (frequency, recency, age, mean spend) for the CLV models, in one SQL statement.

What counts as a purchase: the shop's own orders that were paid (COUNTED statuses: an order closed
by a full refund is not one), net of what was refunded, and the marketplace orders an import brought
in (ExternalOrder). As in the papers (and CDNOW's data), purchases are counted per calendar day in
the shop's time zone: two orders on one day are one purchase whose spend is their sum.

For a calibration end day E and a customer whose purchase days are d_0 < d_1 < … < d_x (all ≤ E):
  frequency x = number of repeat purchase days, recency t_x = d_x - d_0, age T = E - d_0 (days),
  mean spend = mean of the spend on d_1 … d_x (0 when x = 0; the first day's spend is left out
  because it differs systematically from repeat spend, as Fader, Hardie and Lee do).
Anonymised customers are left out: their history no longer belongs to anyone.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db import connection
from django.utils import timezone

from siyu.customers.models import Customer, ExternalOrder
from siyu.customers.stats import COUNTED
from siyu.orders.models import Order
from siyu.shops.models import Shop

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Summary:
    customer_ids: np.ndarray
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    mean_spend: np.ndarray  # fen

    def __len__(self) -> int:
        return len(self.customer_ids)


def _day_number(column: str, tzname: str) -> tuple[str, tuple]:
    """SQL for the local calendar day of a timestamp column, as whole days since 1970-01-01."""
    sql, params = connection.ops.datetime_cast_date_sql(column, (), tzname)
    if connection.vendor == "postgresql":
        return f"({sql} - DATE '1970-01-01')", tuple(params)
    return f"CAST(julianday({sql}) - 2440587.5 AS INTEGER)", tuple(params)


def _statement(tzname: str) -> tuple[str, list]:
    quote = connection.ops.quote_name
    orders, customers, external = (quote(m._meta.db_table) for m in (Order, Customer, ExternalOrder))
    own_day, own_day_params = _day_number("o.paid_at", tzname)
    ext_day, ext_day_params = _day_number("e.placed_at", tzname)
    statuses = ", ".join(["%s"] * len(COUNTED))
    sql = f"""
WITH purchases AS (
  SELECT c.id AS customer_id, {own_day} AS day, o.paid_amount - o.refunded_amount AS amount
  FROM {orders} o JOIN {customers} c ON c.shop_id = o.shop_id AND c.shopper_id = o.shopper_id
  WHERE o.shop_id = %s AND o.status IN ({statuses}) AND o.paid_at < %s
    AND o.paid_amount > o.refunded_amount AND c.anonymized_at IS NULL
  UNION ALL
  SELECT e.customer_id, {ext_day}, e.amount
  FROM {external} e JOIN {customers} c ON c.id = e.customer_id
  WHERE e.shop_id = %s AND e.placed_at < %s AND e.amount > 0 AND c.anonymized_at IS NULL
), days AS (
  SELECT customer_id, day, SUM(amount) AS amount,
         ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY day) AS n
  FROM purchases GROUP BY customer_id, day
)
SELECT customer_id, COUNT(*) - 1, MAX(day) - MIN(day), %s - MIN(day),
       COALESCE(SUM(CASE WHEN n > 1 THEN amount END), 0)
FROM days GROUP BY customer_id ORDER BY customer_id"""
    return sql, [own_day_params, ext_day_params]


def clv_summary(*, shop: Shop, calibration_end: date) -> Summary:
    """The shop's customers with a purchase on or before `calibration_end`, one row each (sorted by
    customer id). One statement; the grouping is done by the database."""
    tzname = timezone.get_default_timezone_name()
    before_local = timezone.make_aware(datetime.combine(calibration_end + timedelta(days=1), time.min))
    before = connection.ops.adapt_datetimefield_value(before_local)  # SQLite compares UTC text
    sql, (own_day, ext_day) = _statement(tzname)
    params = [*own_day, shop.pk, *COUNTED, before, *ext_day, shop.pk, before, (calibration_end - _EPOCH).days]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    data = np.array(rows, dtype=np.int64).reshape(-1, 5)
    frequency = data[:, 1]
    repeat_spend = data[:, 4].astype(float)
    mean = np.divide(repeat_spend, frequency, out=np.zeros_like(repeat_spend), where=frequency > 0)
    return Summary(
        customer_ids=data[:, 0],
        frequency=frequency,
        recency=data[:, 2],
        age=data[:, 3],
        mean_spend=mean,
    )
