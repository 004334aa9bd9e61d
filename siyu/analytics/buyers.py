"""The buyer summary (`BuyerSummary`): each shopper's order history in the figures the dashboards
need, kept from the order events so that cohorts, the funnel and trends never rank every order.

How it stays right. A refresh recomputes one shopper's row from their own orders (two indexed
reads) instead of applying deltas, so a repeated, late or out-of-order event cannot drift it: once
the events of a shopper's last change have run, their row equals a recomputation from scratch (a
property test replays random place/pay/refund/cancel sequences to check it). The events that can
change a figure:
- `order.placed`: the first order placed (the funnel's first contact);
- `order.paid`: first/second paid order, the count and revenue;
- `aftersale.refunding` (a refund reserved against the order), `aftersale.approved` and
  `aftersale.returned` (a failed refund gives its amount back) and `order.refunded`: revenue.
Cancellation is not among them: only an unpaid order can be cancelled, and an unpaid order counts
only by when it was placed, which does not change.

The handlers run in the worker, after the order's transaction commits, so checkout pays nothing
for them and a dashboard may lag the newest orders by the worker's delay; where a figure must not
lag (orders and revenue in trends) the reports read the orders themselves and use this table only
for the first/second order.

`buyer_summaries_rebuild` recomputes whole shops in one statement each: the data step of the
migration that made the table, `manage.py analytics_rebuild_buyers`, and repairs.
"""

from django.db import connections, transaction
from django.db.models import Count, F, Min, Q, Sum

from siyu.core.events import OutboxEvent, event_order_id, subscribe
from siyu.orders.models import AfterSale, Order
from siyu.shops.models import Shop

from .models import BuyerSummary


def buyer_summary_refresh(*, shop_id: int, shopper_id: int) -> BuyerSummary | None:
    """Recompute one shopper's row in one shop from their orders; None (and no row) without any.

    Locks: the summary row, taken before the orders are read (an insert that does nothing when the
    row exists, then FOR UPDATE). Two refreshes of the same shopper therefore queue, and the later
    one reads orders committed before it took the lock: the last write is never a stale one.
    """
    with transaction.atomic():
        BuyerSummary.objects.bulk_create([BuyerSummary(shop_id=shop_id, shopper_id=shopper_id)], ignore_conflicts=True)
        summary = BuyerSummary.objects.select_for_update().get(shop_id=shop_id, shopper_id=shopper_id)
        orders = Order.objects.filter(shop_id=shop_id, shopper_id=shopper_id).order_by()
        paid = Q(paid_at__isnull=False)
        totals = orders.aggregate(
            placed=Min("created_at"),
            paid=Count("id", filter=paid),
            revenue=Sum(F("paid_amount") - F("refunded_amount"), filter=paid),
        )
        if totals["placed"] is None:
            summary.delete()
            return None
        firsts = list(orders.filter(paid).order_by("paid_at", "id").values_list("id", "paid_at", "ref_code")[:2])
        first = firsts[0] if firsts else (None, None, "")
        summary.first_placed_at = totals["placed"]
        summary.first_order_id, summary.first_paid_at, summary.first_ref_code = first
        summary.second_paid_at = firsts[1][1] if len(firsts) > 1 else None
        summary.paid_orders = totals["paid"]
        summary.revenue = int(totals["revenue"] or 0)
        summary.save()
    return summary


def _rebuild_sql(orders: str, summaries: str) -> str:
    """One shop's rows from its orders: the first two paid orders by (paid_at, id) numbered within
    each shopper's paid orders (unpaid ones are a partition of their own, so where each database
    sorts NULLs does not matter)."""
    return f"""
        INSERT INTO {summaries} (shop_id, shopper_id, first_placed_at, first_paid_at, first_order_id,
                                 first_ref_code, second_paid_at, paid_orders, revenue)
        SELECT shop_id, shopper_id, MIN(created_at),
               MIN(CASE WHEN rn = 1 THEN paid_at END), MIN(CASE WHEN rn = 1 THEN id END),
               COALESCE(MIN(CASE WHEN rn = 1 THEN ref_code END), ''),
               MIN(CASE WHEN rn = 2 THEN paid_at END),
               COUNT(paid_at),
               COALESCE(SUM(CASE WHEN paid_at IS NOT NULL THEN paid_amount - refunded_amount END), 0)
        FROM (SELECT shop_id, shopper_id, id, created_at, paid_at, ref_code, paid_amount, refunded_amount,
                     CASE WHEN paid_at IS NOT NULL THEN ROW_NUMBER() OVER (
                         PARTITION BY shopper_id, CASE WHEN paid_at IS NULL THEN 0 ELSE 1 END
                         ORDER BY paid_at, id) END AS rn
              FROM {orders} WHERE shop_id = %s) o
        GROUP BY shop_id, shopper_id"""


def buyer_summaries_rebuild(*, shop_ids: list[int] | None = None, database: str = "default") -> int:
    """Recompute every row of the given shops (all shops when None), each shop in one transaction
    (its rows are deleted and inserted again). Returns how many rows were written.

    Locks: the shop's summary rows (the DELETE); a refresh running meanwhile waits for the shop's
    transaction and then recomputes its shopper again, so nothing is lost."""
    conn = connections[database]
    quote = conn.ops.quote_name
    sql = _rebuild_sql(quote(Order._meta.db_table), quote(BuyerSummary._meta.db_table))
    if shop_ids is None:
        shop_ids = list(Shop.objects.using(conn.alias).order_by("pk").values_list("pk", flat=True))
    written = 0
    for shop_id in shop_ids:
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            cursor.execute(f"DELETE FROM {quote(BuyerSummary._meta.db_table)} WHERE shop_id = %s", [shop_id])
            cursor.execute(sql, [shop_id])
            written += max(cursor.rowcount, 0)
    return written


# --- event handlers (worker) ----------------------------------------------------------------


def _refresh_order(order_id: int) -> None:
    found = Order.objects.filter(pk=order_id).values_list("shop_id", "shopper_id").first()
    if found is not None:
        buyer_summary_refresh(shop_id=found[0], shopper_id=found[1])


def on_order_event(event: OutboxEvent) -> None:
    """order.placed / order.paid / order.refunded: refresh the order's shopper."""
    shopper_id = event.payload.get("shopper")
    if shopper_id is not None and event.shop_id is not None:
        buyer_summary_refresh(shop_id=event.shop_id, shopper_id=int(shopper_id))
    else:
        _refresh_order(event_order_id(event))


def on_refund_step(event: OutboxEvent) -> None:
    """An after-sale reached refunding (its amount reserved on the order) or went back to approved
    or returned (a failed refund gave it back): refresh the order's shopper."""
    order_id = AfterSale.objects.filter(pk=event.payload.get("after_sale")).values_list("order_id", flat=True).first()
    if order_id is not None:
        _refresh_order(order_id)


def register_buyer_summary_handlers() -> None:
    for topic in ("order.placed", "order.paid", "order.refunded"):
        subscribe(topic)(on_order_event)
    for topic in ("aftersale.refunding", "aftersale.approved", "aftersale.returned"):
        subscribe(topic)(on_refund_step)
