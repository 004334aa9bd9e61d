"""Reads for pickup: points (also for other domains: community groups link a group to a point),
the pickup row of an order, pickup orders and batches for staff, and a batch's pick list."""

from django.db.models import Prefetch, QuerySet

from siyu.core.errors import NotFound
from siyu.core.permissions import Actor, require
from siyu.orders.models import Order, OrderLine
from siyu.shops.models import Shop

from .flags import pickup_flags, pickup_offered
from .models import PickupBatch, PickupOrder, PickupPoint
from .points import VIEW


def pickup_points_of_shop(*, shop: Shop, active_only: bool = True) -> QuerySet[PickupPoint]:
    """A shop's pickup points, oldest first (inactive ones too with active_only=False)."""
    qs = PickupPoint.objects.filter(shop=shop).select_related("keeper")
    return qs.filter(is_active=True) if active_only else qs


def pickup_points_for_checkout(*, shop: Shop) -> list[PickupPoint]:
    """The points a shopper may choose at checkout: no query at all for a shop offering none."""
    if not pickup_offered(shop_id=shop.pk):
        return []
    return list(PickupPoint.objects.filter(shop=shop, is_active=True).order_by("id"))


def pickup_point_get(*, shop: Shop, public_id: str, active_only: bool = False) -> PickupPoint:
    qs = pickup_points_of_shop(shop=shop, active_only=active_only)
    point = qs.filter(public_id=str(public_id or "")[:16]).first()
    if point is None:
        raise NotFound(detail={"pickup_point": public_id})
    return point


def pickup_for_order(*, order: Order) -> PickupOrder | None:
    """An order's pickup row with its point, or None; no query for a shop that never had a point."""
    if not pickup_flags(shop_id=order.shop_id).has_points:
        return None
    return PickupOrder.objects.filter(order=order).select_related("point").first()


def pickup_orders_for_staff(
    *, actor: Actor, shop: Shop, point: PickupPoint | None = None, state: str = ""
) -> QuerySet[PickupOrder]:
    """Pickup orders, newest first; state: "waiting" (not picked up) or "done" (picked up)."""
    require(actor, VIEW, shop_id=shop.pk)
    qs = (
        PickupOrder.objects.filter(shop=shop)
        .select_related("order", "order__shopper", "point", "batch")
        .order_by("-id")
    )
    if point is not None:
        qs = qs.filter(point=point)
    if state == "waiting":
        qs = qs.filter(verified_at__isnull=True)
    elif state == "done":
        qs = qs.filter(verified_at__isnull=False)
    return qs


def pickup_batches_for_staff(*, actor: Actor, shop: Shop) -> QuerySet[PickupBatch]:
    require(actor, VIEW, shop_id=shop.pk)
    return PickupBatch.objects.filter(shop=shop).select_related("point").order_by("-id")


def pickup_batch_get(*, actor: Actor, shop: Shop, public_id: str) -> PickupBatch:
    batch = pickup_batches_for_staff(actor=actor, shop=shop).filter(public_id=str(public_id or "")[:16]).first()
    if batch is None:
        raise NotFound(detail={"batch": public_id})
    return batch


def pickup_batch_pick_list(*, batch: PickupBatch) -> dict:
    """What to pack for a batch: totals per product and spec, and each order with its code and
    lines (quantities net of refunds). Two queries."""
    lines = Prefetch("order__lines", queryset=OrderLine.objects.order_by("id"))
    rows = []
    totals: dict[tuple[str, str], int] = {}
    entries = (
        PickupOrder.objects.filter(batch=batch)
        .select_related("order", "order__shopper")
        .prefetch_related(lines)
        .order_by("id")
    )
    for entry in entries:
        items = [(ln, ln.quantity - ln.refunded_quantity) for ln in entry.order.lines.all()]
        items = [(ln, n) for ln, n in items if n > 0]
        rows.append({"pickup": entry, "order": entry.order, "items": items})
        for ln, n in items:
            key = (ln.product_name, ln.sku_label)
            totals[key] = totals.get(key, 0) + n
    summary = [{"product": p, "spec": s, "quantity": n} for (p, s), n in sorted(totals.items())]
    return {"rows": rows, "summary": summary, "units": sum(totals.values())}


def pickup_points_kept_by(*, shop: Shop, shopper) -> list[PickupPoint]:
    """The active points a shopper keeps (may verify codes for); none without a query when the
    shop has no points."""
    if not pickup_flags(shop_id=shop.pk).has_points:
        return []
    return list(PickupPoint.objects.filter(shop=shop, keeper=shopper, is_active=True).order_by("id"))
