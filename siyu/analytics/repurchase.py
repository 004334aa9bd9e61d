"""Repurchase (复购): who buys a product again, how long between orders, and the consumption cycle
the repurchase reminders could use.

Counted purchases: lines of orders paid in the range that were not fully refunded, one per order
and product (two SKUs of a product in one order are one purchase).
- repurchase rate of a product (or category): buyers with purchases of it in two or more orders ÷
  its buyers, in the range;
- days between orders: for each buyer's paid order in the range, the whole days since their
  previous paid order in the shop (of any time), as a histogram;
- suggested consumption cycle of a product: the median of the days between a buyer's consecutive
  purchases of that product (previous purchases before the range count as the start of a gap),
  offered when at least MIN_GAPS gaps were seen. Reminders use the product's
  `consumption_cycle_days` (siyu.customers.reminders); applying a suggestion goes through the
  catalogue's product_update.
Five queries: product rates, category rates, the order-gap histogram, product gaps, product names.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from siyu.catalog.models import Category, Product
from siyu.core.db_router import replica_reads
from siyu.core.permissions import Actor, require
from siyu.orders.models import Order, OrderLine
from siyu.shops.models import Shop

from .dash_sql import DateRange, days_between_sql, fetch, median_of_counts, rate, table, when

MIN_GAPS = 3
MAX_PRODUCTS = 200  # rows shown, most buyers first
BINS = ((0, 7), (8, 14), (15, 30), (31, 60), (61, 90), (91, 180), (181, 365), (366, None))


@dataclass
class RepurchaseRow:
    key: int | None  # product or category id (None: no category)
    name: str
    buyers: int
    repeat_buyers: int
    public_id: str = ""  # products only
    current_cycle: int | None = None  # products only: consumption_cycle_days now
    gaps: int = 0  # consecutive purchases seen (products only)
    median_days: Decimal | None = None
    suggested_cycle: int | None = None

    @property
    def rate(self) -> Decimal | None:
        return rate(self.repeat_buyers, self.buyers)


@dataclass
class HistogramBin:
    low: int
    high: int | None  # None: and above
    count: int


@dataclass
class RepurchaseReport:
    span: DateRange
    products: list[RepurchaseRow]
    categories: list[RepurchaseRow]
    histogram: list[HistogramBin]
    median_days_between_orders: Decimal | None
    buyers: int
    repeat_buyers: int

    @property
    def rate(self) -> Decimal | None:
        return rate(self.repeat_buyers, self.buyers)


def _purchases_sql(shop_id: int, span: DateRange, group: str) -> tuple[str, list]:
    """(group key, shopper, orders with it) for kept lines of orders paid in `span`. Grouped by key,
    shopper and order first, then counted: hashing, where a COUNT(DISTINCT) would sort every line."""
    sql = f"""
        SELECT k, shopper_id, COUNT(*) AS n FROM (
            SELECT {group} AS k, o.shopper_id, o.id
            FROM {table(OrderLine)} l
            JOIN {table(Order)} o ON o.id = l.order_id
            JOIN {table(Product)} pr ON pr.id = l.product_id
            WHERE l.shop_id = %s AND o.paid_at >= %s AND o.paid_at < %s AND l.refunded_quantity < l.quantity
            GROUP BY 1, 2, 3) bought
        GROUP BY k, shopper_id"""
    return sql, [shop_id, when(span.start), when(span.end)]


def _rates(shop_id: int, span: DateRange, group: str) -> dict:
    inner, params = _purchases_sql(shop_id, span, group)
    rows = fetch(f"SELECT k, COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) FROM ({inner}) x GROUP BY k", params)
    return {k: (int(buyers), int(repeat or 0)) for k, buyers, repeat in rows}


def _order_gaps(shop_id: int, span: DateRange) -> dict[int, int]:
    """Only the orders paid in the range are read in order; the gap of a buyer's first one in the
    range reaches back to their last paid order before it, found through the (shop, shopper,
    paid_at) index (one probe per buyer, not a sort of the shop's whole history)."""
    orders = table(Order)
    days = days_between_sql("prev_at", "paid_at")
    start, end = when(span.start), when(span.end)
    rows = fetch(
        f"""SELECT {days} AS d, COUNT(*) FROM (
                SELECT g.paid_at, COALESCE(
                    LAG(g.paid_at) OVER (PARTITION BY g.shopper_id ORDER BY g.paid_at, g.id),
                    (SELECT MAX(e.paid_at) FROM {orders} e
                     WHERE e.shop_id = %s AND e.shopper_id = g.shopper_id AND e.paid_at IS NOT NULL
                       AND e.paid_at < %s)) AS prev_at
                FROM {orders} g
                WHERE g.shop_id = %s AND g.paid_at >= %s AND g.paid_at < %s) gaps
            WHERE prev_at IS NOT NULL GROUP BY 1""",
        [shop_id, start, shop_id, start, end],
    )
    return {int(d): int(n) for d, n in rows}


def _product_gaps(shop_id: int, span: DateRange) -> dict[int, dict[int, int]]:
    """As the order gaps, per product: the purchases in the range in order, and for a buyer's first
    one of a product in the range, their last kept purchase of it before the range (one grouped
    pass over the earlier lines, hashed, rather than a probe per buyer and product)."""
    lines, orders = table(OrderLine), table(Order)
    days = days_between_sql("prev_at", "paid_at")
    start, end = when(span.start), when(span.end)
    rows = fetch(
        f"""SELECT product_id, {days} AS d, COUNT(*) FROM (
                SELECT bought.product_id, bought.paid_at, COALESCE(
                    LAG(bought.paid_at) OVER (
                        PARTITION BY bought.shopper_id, bought.product_id ORDER BY bought.paid_at, bought.order_id),
                    earlier.last_at) AS prev_at
                FROM (SELECT DISTINCT l.product_id, o.shopper_id, o.paid_at, o.id AS order_id
                      FROM {lines} l JOIN {orders} o ON o.id = l.order_id
                      WHERE l.shop_id = %s AND o.paid_at >= %s AND o.paid_at < %s
                        AND l.refunded_quantity < l.quantity) bought
                LEFT JOIN (SELECT l.product_id, o.shopper_id, MAX(o.paid_at) AS last_at
                           FROM {lines} l JOIN {orders} o ON o.id = l.order_id
                           WHERE l.shop_id = %s AND o.paid_at IS NOT NULL AND o.paid_at < %s
                             AND l.refunded_quantity < l.quantity
                           GROUP BY l.product_id, o.shopper_id) earlier
                       ON earlier.product_id = bought.product_id AND earlier.shopper_id = bought.shopper_id) g
            WHERE prev_at IS NOT NULL GROUP BY 1, 2""",
        [shop_id, start, end, shop_id, start],
    )
    out: dict[int, dict[int, int]] = {}
    for product_id, d, n in rows:
        out.setdefault(int(product_id), {})[int(d)] = int(n)
    return out


def histogram(gaps: dict[int, int]) -> list[HistogramBin]:
    return [
        HistogramBin(low, high, sum(n for d, n in gaps.items() if d >= low and (high is None or d <= high)))
        for low, high in BINS
    ]


def suggested_cycle(median: Decimal | None, gaps: int) -> int | None:
    if median is None or gaps < MIN_GAPS:
        return None
    return min(max(int(median.quantize(Decimal(1), rounding=ROUND_HALF_UP)), 1), 3650)


@replica_reads()
def repurchase_report(*, actor: Actor | None, shop: Shop, span: DateRange) -> RepurchaseReport:
    """Repurchase by product and category, the days between orders and suggested cycles. Six
    queries (see the module note; the shop-wide rate is one more)."""
    require(actor, "analytics.view", shop_id=shop.pk)
    by_product = _rates(shop.pk, span, "l.product_id")
    by_category = _rates(shop.pk, span, "pr.category_id")
    inner, params = _purchases_sql(shop.pk, span, "l.shop_id")
    overall = fetch(f"SELECT COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) FROM ({inner}) x", params)[0]
    order_gaps = _order_gaps(shop.pk, span)
    product_gaps = _product_gaps(shop.pk, span)
    top = sorted(by_product, key=lambda k: (-by_product[k][0], k))[:MAX_PRODUCTS]
    products = {
        p.pk: p
        for p in Product.objects.filter(shop=shop, pk__in=top).only("name", "public_id", "consumption_cycle_days")
    }
    categories = dict(
        Category.objects.filter(shop=shop, pk__in=[k for k in by_category if k]).values_list("pk", "name")
    )
    product_rows = []
    for pk in top:
        found = product_gaps.get(pk, {})
        median = median_of_counts(found)
        count = sum(found.values())
        product = products.get(pk)
        product_rows.append(
            RepurchaseRow(
                key=pk,
                name=product.name if product else "",
                buyers=by_product[pk][0],
                repeat_buyers=by_product[pk][1],
                public_id=product.public_id if product else "",
                current_cycle=product.consumption_cycle_days if product else None,
                gaps=count,
                median_days=median,
                suggested_cycle=suggested_cycle(median, count),
            )
        )
    category_rows = [
        RepurchaseRow(key=k, name=categories.get(k, "") if k else "", buyers=b, repeat_buyers=r)
        for k, (b, r) in sorted(by_category.items(), key=lambda item: (-item[1][0], item[0] or 0))
    ]
    return RepurchaseReport(
        span=span,
        products=product_rows,
        categories=category_rows,
        histogram=histogram(order_gaps),
        median_days_between_orders=median_of_counts(order_gaps),
        buyers=int(overall[0] or 0),
        repeat_buyers=int(overall[1] or 0),
    )
