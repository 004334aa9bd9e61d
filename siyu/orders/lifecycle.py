"""Order status changes. Every change goes through `_transition`, which checks the table and
writes the timeline row. Callers hold the order row lock (`order_lock`)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core.errors import Conflict, NotFound
from siyu.core.events import event_record

from .models import Order, OrderStatus, OrderTimeline

S = OrderStatus
TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
    S.PAID: {S.PARTIALLY_SHIPPED, S.SHIPPED, S.CLOSED},
    S.PARTIALLY_SHIPPED: {S.SHIPPED, S.CLOSED},
    S.SHIPPED: {S.COMPLETED, S.CLOSED},
    S.COMPLETED: {S.CLOSED},
    S.CANCELLED: {S.PAID},  # a payment that arrived after cancellation, with stock still available
    S.CLOSED: set(),
}


def actor_label(actor) -> tuple[object | None, str]:
    """(user, label) for a timeline row: a staff member, a shopper or the system."""
    user = getattr(actor, "user", None)
    if user is not None:
        return user, getattr(actor, "display_name", "") or user.get_username()
    if actor is not None and hasattr(actor, "masked_phone"):
        return None, actor.masked_phone
    return None, str(actor or "system")


def timeline_add(*, order: Order, actor, action: str, note: str = "", from_status: str = "", to_status: str = ""):
    user, label = actor_label(actor)
    return OrderTimeline.objects.create(
        order=order,
        actor=user,
        actor_label=label[:60],
        action=action,
        note=str(note)[:300],
        from_status=from_status,
        to_status=to_status,
    )


def order_lock(*, order_id: int) -> Order:
    """Lock one order row for the rest of the transaction."""
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound(detail={"order": order_id})
    return order


def transition(*, order: Order, to: str, actor, action: str, note: str = "", fields: dict | None = None) -> Order:
    """Move a locked order to `to`, or refuse. Writes the timeline row."""
    if to not in TRANSITIONS.get(order.status, set()):
        raise Conflict(
            _("This order cannot do that now."), code="bad_transition", detail={"from": order.status, "to": to}
        )
    before = order.status
    order.status = to
    for key, value in (fields or {}).items():
        setattr(order, key, value)
    order.save(update_fields=["status", *(fields or {})])
    timeline_add(order=order, actor=actor, action=action, note=note, from_status=before, to_status=to)
    return order


def stock_release(*, order: Order) -> None:
    """Give a locked order's reserved stock back, exactly once."""
    if order.stock_released:
        return
    for line in sorted(order.lines.all(), key=lambda ln: ln.sku_id):
        Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + line.quantity)
    order.stock_released = True
    order.save(update_fields=["stock_released"])


def stock_reserve_again(*, order: Order) -> bool:
    """Reserve a cancelled order's stock again (all lines or none)."""
    try:
        with transaction.atomic():
            for line in sorted(order.lines.all(), key=lambda ln: ln.sku_id):
                if not Sku.objects.filter(pk=line.sku_id, stock__gte=line.quantity).update(
                    stock=F("stock") - line.quantity
                ):
                    raise Conflict(code="insufficient_stock")
    except Conflict:
        return False
    order.stock_released = False
    order.save(update_fields=["stock_released"])
    return True


def order_cancel(*, order_id: int, actor, reason: str = "") -> Order:
    """Cancel an unpaid order and release its stock. Shoppers, staff and the timeout use this."""
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        transition(
            order=order,
            to=S.CANCELLED,
            actor=actor,
            action="cancel",
            note=reason,
            fields={"cancelled_at": timezone.now()},
        )
        stock_release(order=order)
        event_record(topic="order.cancelled", shop_id=order.shop_id, payload={"order": order.pk})
    return order


def orders_expire_due(*, now=None, limit: int = 500) -> int:
    """Cancel unpaid orders past their payment deadline (the worker runs this every minute)."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(status=S.PENDING_PAYMENT, pay_deadline__lt=now)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for order_id in due:
        try:
            order_cancel(order_id=order_id, actor="system", reason="payment timeout")
            done += 1
        except Conflict:
            continue  # paid or cancelled meanwhile
    return done


def order_mark_paid(*, order_id: int, amount: int, provider: str) -> str:
    """Record a verified payment on the order; the caller's transaction holds the payment row lock.

    Returns "paid", "reinstated" (it had been cancelled and the stock was still there) or
    "needs_refund" (cancelled and sold out: the money must go back).
    """
    order = order_lock(order_id=order_id)
    if order.status == S.CANCELLED:
        if not stock_reserve_again(order=order):
            timeline_add(order=order, actor=provider, action="late_payment", note="stock gone: refunding")
            return "needs_refund"
        outcome = "reinstated"
    elif order.status == S.PENDING_PAYMENT:
        outcome = "paid"
    else:
        timeline_add(order=order, actor=provider, action="duplicate_payment", note="already paid: refunding")
        return "needs_refund"
    transition(
        order=order,
        to=S.PAID,
        actor=provider,
        action="pay",
        note="late payment reinstated" if outcome == "reinstated" else "",
        fields={"paid_at": timezone.now(), "paid_amount": amount},
    )
    event_record(topic="order.paid", shop_id=order.shop_id, payload={"order": order.pk, "amount": amount})
    return outcome


def order_confirm_receipt(*, order_id: int, actor, shopper_id: int | None = None, note: str = "") -> Order:
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if shopper_id is not None and order.shopper_id != shopper_id:
            raise NotFound()
        transition(
            order=order,
            to=S.COMPLETED,
            actor=actor,
            action="receive",
            note=note,
            fields={"received_at": timezone.now()},
        )
        event_record(topic="order.completed", shop_id=order.shop_id, payload={"order": order.pk})
    return order


def orders_auto_confirm_due(*, now=None, limit: int = 500) -> int:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SIYU_AUTO_CONFIRM_DAYS)
    due = list(Order.objects.filter(status=S.SHIPPED, shipped_at__lt=cutoff).values_list("id", flat=True)[:limit])
    done = 0
    for order_id in due:
        try:
            order_confirm_receipt(order_id=order_id, actor="system", note="auto-confirmed")
            done += 1
        except Conflict:
            continue
    return done
