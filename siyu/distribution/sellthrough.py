"""Sell-through per promoter: what really reached end customers through their links.

Orders, customers reached, repeat rate (customers with two or more orders), refunds and
commission, all from SQL aggregates: four queries whatever the number of promoters.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from siyu.core.money import ratio_bp
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .models import Commission, Promoter


@dataclass
class SellThrough:
    promoter: Promoter
    orders: int = 0
    customers: int = 0
    repeat_customers: int = 0
    sales: int = 0  # fen paid
    refunded: int = 0  # fen refunded
    refunded_orders: int = 0
    commission: int = 0  # fen, frozen + settled, after refunds
    commission_settled: int = 0

    @property
    def repeat_rate_bp(self) -> int:
        return ratio_bp(self.repeat_customers, self.customers)

    @property
    def refund_rate_bp(self) -> int:
        return ratio_bp(self.refunded_orders, self.orders)


def promoter_sellthrough(
    *, shop: Shop, since: datetime | None = None, until: datetime | None = None, promoter_ids: list[int] | None = None
) -> list[SellThrough]:
    """One row per approved or suspended promoter (or those asked for), biggest sales first."""
    promoters = Promoter.objects.filter(shop=shop).select_related("shopper").order_by("id")
    if promoter_ids is not None:
        promoters = promoters.filter(pk__in=promoter_ids)
    else:
        promoters = promoters.filter(status__in=[Promoter.Status.APPROVED, Promoter.Status.SUSPENDED])
    rows = {p.shopper.share_code: SellThrough(promoter=p) for p in promoters}
    if not rows:
        return []
    orders = Order.objects.filter(shop=shop, ref_code__in=list(rows), paid_at__isnull=False)
    if since:
        orders = orders.filter(paid_at__gte=since)
    if until:
        orders = orders.filter(paid_at__lt=until)
    totals = (
        orders.order_by()
        .values("ref_code")
        .annotate(
            orders=Count("id"),
            customers=Count("shopper", distinct=True),
            sales=Coalesce(Sum("paid_amount"), 0),
            refunded=Coalesce(Sum("refunded_amount"), 0),
            refunded_orders=Count("id", filter=Q(refunded_amount__gt=0)),
        )
    )
    for row in totals:
        item = rows[row["ref_code"]]
        item.orders, item.customers, item.sales = row["orders"], row["customers"], row["sales"]
        item.refunded, item.refunded_orders = row["refunded"], row["refunded_orders"]
    repeats = (
        orders.order_by().values("ref_code", "shopper").annotate(n=Count("id")).filter(n__gte=2).values_list("ref_code")
    )
    for (code,) in repeats:
        rows[code].repeat_customers += 1
    by_promoter = {item.promoter.pk: item for item in rows.values()}
    commissions = Commission.objects.filter(shop=shop, promoter_id__in=list(by_promoter), tier=1)
    if since or until:
        commissions = commissions.filter(order__in=orders)
    sums = (
        commissions.order_by()
        .values("promoter_id")
        .annotate(
            total=Coalesce(Sum("amount", filter=~Q(status=Commission.Status.CANCELLED)), 0),
            settled=Coalesce(Sum("amount", filter=Q(status=Commission.Status.SETTLED)), 0),
        )
    )
    for paid in sums:
        by_promoter[paid["promoter_id"]].commission = paid["total"]
        by_promoter[paid["promoter_id"]].commission_settled = paid["settled"]
    return sorted(rows.values(), key=lambda r: (-r.sales, r.promoter.pk))
