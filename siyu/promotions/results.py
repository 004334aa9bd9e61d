"""Per-promotion results for the console: orders, revenue, discount given, new vs returning.

Read from `PromotionUse` (one row per order a promotion was used on) joined to its order, in one
query whatever the number of orders or promotions asked about. Every promotion kind uses these:
`promotion_results(shop=…, kind="flash_sale", ref=<public id>)`.

- orders placed: every order the promotion was used on (cancelled ones too);
- orders paid: of those, the ones paid and not cancelled (paid, shipped, completed, partially
  shipped or closed after a refund) with money received;
- revenue: what those paid orders kept (paid − refunded);
- discount: what the promotion took off, on the paid orders and on all placed ones;
- new customers: distinct shoppers for whom a paid order with this promotion was their first paid
  order in the shop; returning: distinct shoppers who had paid for an earlier order there.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from siyu.orders.models import Order, OrderStatus
from siyu.shops.models import Shop

from .models import PromotionUse

PAID_STATUSES = (
    OrderStatus.PAID,
    OrderStatus.SHIPPED,
    OrderStatus.COMPLETED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.CLOSED,
)


@dataclass(frozen=True)
class PromotionResults:
    kind: str
    ref: str
    orders_placed: int = 0
    orders_paid: int = 0
    revenue: int = 0  # fen: paid − refunded of the paid orders
    discount: int = 0  # fen given away on paid orders
    discount_placed: int = 0  # fen offered on every placed order (cancelled ones too)
    new_customers: int = 0
    returning_customers: int = 0

    @property
    def conversion_bp(self) -> int:
        """Paid orders per placed order, in basis points."""
        return self.orders_paid * 10000 // self.orders_placed if self.orders_placed else 0


def _paid(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": PAID_STATUSES, f"{prefix}paid_amount__gt": 0})


def promotion_results_many(*, shop: Shop, kind: str, refs: Iterable[str]) -> dict[str, PromotionResults]:
    """Results for several promotions of one kind (a list page), in one query. Every ref asked
    about has an entry, zero when it was never used."""
    refs = [str(r) for r in refs]
    if not refs:
        return {}
    earlier_paid = Order.objects.filter(
        _paid(),
        shop_id=OuterRef("shop_id"),
        shopper_id=OuterRef("order__shopper_id"),
    ).filter(
        Q(paid_at__lt=OuterRef("order__paid_at")) | Q(paid_at=OuterRef("order__paid_at"), pk__lt=OuterRef("order_id"))
    )
    paid = _paid("order__")
    rows = (
        PromotionUse.objects.filter(shop=shop, kind=kind, ref__in=refs)
        .annotate(returning=Exists(earlier_paid))
        .values("ref")
        .annotate(
            orders_placed=Count("order_id", distinct=True),
            orders_paid=Count("order_id", filter=paid, distinct=True),
            revenue=Coalesce(Sum(F("order__paid_amount") - F("order__refunded_amount"), filter=paid), 0),
            discount_paid=Coalesce(Sum("discount", filter=paid), 0),
            discount_placed=Coalesce(Sum("discount"), 0),
            new_customers=Count("order__shopper_id", filter=paid & Q(returning=False), distinct=True),
            returning_customers=Count("order__shopper_id", filter=paid & Q(returning=True), distinct=True),
        )
        .order_by()
    )
    found: dict[str, PromotionResults] = {}
    for row in rows:
        values: dict[str, Any] = dict(row)
        ref = str(values.pop("ref"))
        values["discount"] = values.pop("discount_paid")
        found[ref] = PromotionResults(kind=kind, ref=ref, **values)
    return {ref: found.get(ref, PromotionResults(kind=kind, ref=ref)) for ref in refs}


def promotion_results(*, shop: Shop, kind: str, ref: str) -> PromotionResults:
    """One promotion's results (see the module docstring), in one query."""
    return promotion_results_many(shop=shop, kind=kind, refs=[ref])[str(ref)]
