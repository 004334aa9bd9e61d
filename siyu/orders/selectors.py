"""Reads of orders, for shoppers (only their own) and for staff (only their shop's)."""

from collections.abc import Sequence
from datetime import datetime

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from siyu.accounts.models import Shopper
from siyu.core.errors import NotFound
from siyu.shops.models import Shop

from .models import AfterSale, CartLine, Order, OrderLine, OrderTimeline

DETAIL_PREFETCH = (
    Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
    Prefetch("timeline", queryset=OrderTimeline.objects.order_by("id")),
    "shipments",
    Prefetch("after_sales", queryset=AfterSale.objects.order_by("-id")),
)


def cart_count(*, shop: Shop, shopper_id: int) -> int:
    """Items in a shopper's cart (the tab bar's badge): one aggregate, no rows loaded."""
    return CartLine.objects.filter(shop=shop, shopper_id=shopper_id).aggregate(n=Sum("quantity"))["n"] or 0


def cart_count_of_shoppers(*, shop: Shop) -> QuerySet[Shopper]:
    """Shoppers annotated with `cart_items` (cart_count's number), so a page that loads the
    signed-in shopper gets the badge in the same query."""
    per_shopper = (
        CartLine.objects.filter(shop=shop, shopper=OuterRef("pk")).values("shopper").annotate(n=Sum("quantity"))
    )
    return Shopper.objects.annotate(cart_items=Coalesce(Subquery(per_shopper.values("n")), 0))


def orders_of_shopper(*, shop: Shop, shopper: Shopper, status: str = "") -> QuerySet[Order]:
    qs = Order.objects.filter(shop=shop, shopper=shopper).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )
    return qs.filter(status=status) if status else qs


def order_for_shopper(*, shop: Shop, shopper: Shopper, public_id: str) -> Order:
    order = (
        Order.objects.filter(shop=shop, shopper=shopper, public_id=public_id).prefetch_related(*DETAIL_PREFETCH).first()
    )
    if order is None:
        raise NotFound(detail={"order": public_id})
    return order


def orders_for_staff(
    *,
    shop: Shop,
    status: str = "",
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    q: str = "",
    product_id: str = "",
    statuses: Sequence[str] = (),
) -> QuerySet[Order]:
    """Filter by status (one, or any of `statuses`), placement date range, shopper (phone or order
    number) and product."""
    qs = Order.objects.filter(shop=shop).select_related("shopper")
    if status:
        qs = qs.filter(status=status)
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    if date_from:
        qs = qs.filter(created_at__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__lt=date_to)
    q = (q or "").strip()[:40]
    if q:
        from siyu.core.crypto import lookup_hash

        qs = qs.filter(Q(number=q) | Q(shopper__phone_hash=lookup_hash(q)) | Q(recipient=q))
    if product_id:
        qs = qs.filter(lines__product__public_id=product_id).distinct()
    return qs.order_by("-id")


def order_for_staff(*, shop: Shop, public_id: str) -> Order:
    order = (
        Order.objects.filter(shop=shop, public_id=public_id)
        .select_related("shopper")
        .prefetch_related(*DETAIL_PREFETCH)
        .first()
    )
    if order is None:
        raise NotFound(detail={"order": public_id})
    return order


def aftersales_for_staff(*, shop: Shop, status: str = "") -> QuerySet[AfterSale]:
    qs = AfterSale.objects.filter(shop=shop).select_related("order", "line")
    return qs.filter(status=status) if status else qs


def order_counts(*, shop: Shop) -> dict:
    from django.db.models import Count

    rows = dict(
        Order.objects.filter(shop=shop).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return {
        "by_status": rows,
        "to_ship": rows.get("paid", 0) + rows.get("partially_shipped", 0),
        "after_sales_open": AfterSale.objects.filter(shop=shop, status__in=["requested", "returned"]).count(),
    }


def orders_paid_since(*, shop: Shop, since: datetime) -> dict:
    """How many orders were paid since a moment, and for how much (fen)."""
    from django.db.models import Count, Sum

    agg = Order.objects.filter(shop=shop, paid_at__gte=since).aggregate(n=Count("id"), amount=Sum("paid_amount"))
    return {"count": agg["n"], "amount": agg["amount"] or 0}
