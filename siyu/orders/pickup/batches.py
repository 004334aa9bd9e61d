"""Community group-buy batches (社区团购): a point's paid pickup orders up to a cut-off, delivered
to the point in one shipment (one carrier and tracking number for all of them), with a pick list.

Locks: the point row (rank SHOP) while a batch collects its orders, so two batches of one point
never take the same order; shipping claims the batch with one conditional UPDATE, then ships each
order through the fulfilment service, one transaction apiece (order_ship locks the order).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, DomainError, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import Actor, require
from siyu.orders.fulfilment import order_ship, tracking_clean
from siyu.orders.lifecycle import actor_label
from siyu.orders.models import OrderStatus
from siyu.shops.models import Shop

from .models import PickupBatch, PickupOrder, PickupPoint
from .points import MANAGE

S = OrderStatus


def _collectable(point: PickupPoint, cutoff):
    """Paid pickup orders of the point, not in a batch and not picked up, paid by the cut-off."""
    return PickupOrder.objects.filter(
        point=point,
        batch__isnull=True,
        verified_at__isnull=True,
        order__status=S.PAID,
        order__paid_at__lte=cutoff,
        order__fulfilment_hold="",
    )


def pickup_batch_create(*, actor: Actor, shop: Shop, point_id: str, cutoff=None) -> PickupBatch:
    """Start a batch for a point: every collectable order paid by `cutoff` (now by default) joins
    it. 409 `batch_empty` when there is none."""
    require(actor, MANAGE, shop_id=shop.pk)
    cutoff = cutoff or timezone.now()
    with transaction.atomic():
        point = locks.lock_one(
            PickupPoint.objects.filter(shop=shop, public_id=str(point_id or "")[:16]), rank=locks.SHOP
        )
        if point is None:
            raise NotFound(detail={"pickup_point": point_id})
        batch = PickupBatch.objects.create(
            shop=shop, public_id=public_id(12), point=point, cutoff=cutoff, created_by=actor_label(actor)[1][:60]
        )
        # Order rows are not locked: a payment or refund racing this simply finds its order in the
        # batch or not; shipping re-checks every order under its own lock.
        ids = list(_collectable(point, cutoff).order_by("id").values_list("id", flat=True))
        taken = PickupOrder.objects.filter(pk__in=ids, batch__isnull=True).update(batch=batch)
        if not taken:
            raise Conflict(_("No paid pickup orders are waiting for this point."), code="batch_empty")
        batch.order_count = taken
        batch.save(update_fields=["order_count"])
        audit_record(shop_id=shop.pk, actor=actor, action="pickup_batch.create", target=batch, data={"orders": taken})
    return batch


def pickup_batch_ship(*, actor: Actor, shop: Shop, public_id: str, carrier: str, tracking_number: str) -> dict:
    """Ship every order of the batch with one carrier and tracking number (order_ship, once per
    order). Orders refunded or picked up meanwhile come back with the reason; the rest ship.
    A batch ships once: a second call is 409 `batch_shipped`."""
    require(actor, MANAGE, shop_id=shop.pk)
    carrier, tracking_number = tracking_clean(carrier, tracking_number)
    batch = PickupBatch.objects.filter(shop=shop, public_id=str(public_id or "")[:16]).first()
    if batch is None:
        raise NotFound(detail={"batch": public_id})
    now = timezone.now()
    claimed = PickupBatch.objects.filter(pk=batch.pk, shipped_at__isnull=True).update(
        shipped_at=now, carrier=carrier, tracking_number=tracking_number
    )
    if not claimed:
        raise Conflict(_("This batch has already shipped."), code="batch_shipped")
    audit_record(
        shop_id=shop.pk,
        actor=actor,
        action="pickup_batch.ship",
        target=batch,
        data={"carrier": carrier, "tracking": tracking_number},
    )
    shipped, rejected = [], []
    orders = PickupOrder.objects.filter(batch=batch).select_related("order").order_by("order_id")
    for entry in orders:
        try:
            order_ship(actor=actor, order_id=entry.order_id, carrier=carrier, tracking_number=tracking_number)
            shipped.append(entry.order.number)
        except DomainError as exc:
            rejected.append({"order": entry.order.number, "code": exc.code, "error": str(exc.message)})
    return {"shipped": len(shipped), "rejected": rejected, "orders": shipped}
