"""Order status changes. Every change goes through `transition`, which checks the table
(`states.ORDER_TRANSITIONS`) and writes the timeline row.

Locks follow the global order in siyu/core/locks.py: the order row first (`order_lock`), then, in
the same transaction, after-sales, payments, refunds, and stock last.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Sku
from siyu.core import locks
from siyu.core.errors import Conflict, NotFound
from siyu.core.events import event_record
from siyu.core.prepared import insert_new
from siyu.core.soldout import soldout_clear_on_commit

from .models import Order, OrderStatus, OrderTimeline
from .states import OPEN as AFTERSALE_OPEN
from .states import ORDER_TRANSITIONS as TRANSITIONS

S = OrderStatus


def actor_label(actor) -> tuple[Any, str]:
    """(user, label) for a timeline row: a staff member, a shopper or the system."""
    user = getattr(actor, "user", None)
    if user is not None:
        return user, getattr(actor, "display_name", "") or user.get_username()
    if actor is not None and hasattr(actor, "masked_phone"):
        return None, actor.masked_phone
    return None, str(actor or "system")


def timeline_add(*, order: Order, actor, action: str, **details) -> OrderTimeline:
    """Insert one timeline row: `timeline_row`'s (its `note`, `from_status`, `to_status`, `data`)."""
    (row,) = insert_new([timeline_row(order=order, actor=actor, action=action, **details)])
    return row


def timeline_row(
    *,
    order: Order,
    actor,
    action: str,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    data: dict | None = None,
) -> OrderTimeline:
    """One timeline row, not yet saved (checkout inserts it with the order's lines). `action` and system
    notes are codes; `states.timeline_entries` words them."""
    user, label = actor_label(actor)
    return OrderTimeline(
        order=order,
        actor=user,
        actor_label=label[:60],
        action=action,
        note=str(note)[:300],
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )


def order_lock(*, order_id: int) -> Order:
    """Lock one order row for the rest of the transaction (rank ORDER: before after-sales,
    payments, refunds and stock)."""
    order = locks.lock_one(Order.objects.filter(pk=order_id), rank=locks.ORDER)
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
    """Give a locked order's reserved stock back, exactly once. Locks: stock rows (sku pk order),
    after the order the caller holds."""
    if order.stock_released:
        return
    # Lines whose promotion holds the stock (a flash sale) go back to it, in its order.cancelled subscriber.
    lines = sorted((ln for ln in order.lines.all() if not ln.stock_held), key=lambda ln: ln.sku_id)
    locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=[ln.sku_id for ln in lines])
    for line in lines:
        Sku.objects.filter(pk=line.sku_id).update(stock=F("stock") + line.quantity)
    soldout_clear_on_commit(sku_ids=[ln.sku_id for ln in lines])
    order.stock_released = True
    order.save(update_fields=["stock_released"])


def stock_reserve_again(*, order: Order) -> bool:
    """Reserve a cancelled order's stock again (all lines or none). Locks: stock rows (sku pk
    order), after the order the caller holds."""
    lines = sorted(order.lines.all(), key=lambda ln: ln.sku_id)
    if any(ln.stock_held or ln.promotion for ln in lines):
        # What a promotion gave this order (flash stock, a bargain, a group seat, a per-customer
        # allowance) went back to it on cancellation and may be someone else's now: refund instead.
        return False
    locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=[ln.sku_id for ln in lines])
    try:
        with transaction.atomic():
            for line in lines:
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
    """Cancel an unpaid order and release its stock. Shoppers, staff and the timeout use this.

    Locks: the order, then its stock rows. A payment notification for the same order takes the
    order first too, so the two simply queue (the later one sees the other's result).
    """
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
        # The event first: its in-transaction subscribers (coupons, points, promotion allowances and
        # flash stock) take their rows before the SKU stock rows, the order placing takes them in,
        # so a cancellation and a placement by the same shopper cannot deadlock.
        event_record(topic="order.cancelled", shop_id=order.shop_id, payload={"order": order.pk})
        stock_release(order=order)
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


def order_mark_paid(*, order: Order, amount: int, provider: str, actor=None) -> str:
    """Record a verified payment on an order the caller has locked (`order_lock`, taken before the
    payment row, as siyu/core/locks.py orders). `actor` is who recorded it (the provider by default).

    Returns "paid", "reinstated" (it had been cancelled and the stock was still there) or
    "needs_refund" (cancelled and sold out, or already paid: the money must go back).
    """
    actor = actor if actor is not None else provider
    if order.status == S.CANCELLED:
        if not stock_reserve_again(order=order):
            timeline_add(order=order, actor=actor, action="late_payment", note="stock gone: refunding")
            return "needs_refund"
        outcome = "reinstated"
    elif order.status == S.PENDING_PAYMENT:
        outcome = "paid"
    else:
        timeline_add(order=order, actor=actor, action="duplicate_payment", note="already paid: refunding")
        return "needs_refund"
    transition(
        order=order,
        to=S.PAID,
        actor=actor,
        action="pay",
        note="late payment reinstated" if outcome == "reinstated" else "",
        fields={"paid_at": timezone.now(), "paid_amount": amount},
    )
    event_record(topic="order.paid", shop_id=order.shop_id, payload={"order": order.pk, "amount": amount})
    return outcome


def _receipt_record(*, order: Order, actor, note: str = "") -> None:
    transition(
        order=order,
        to=S.COMPLETED,
        actor=actor,
        action="receive",
        note=note,
        fields={"received_at": timezone.now()},
    )
    event_record(topic="order.completed", shop_id=order.shop_id, payload={"order": order.pk})


def order_confirm_receipt(*, order_id: int, actor, shopper_id: int | None = None, note: str = "") -> Order:
    """The shopper (or staff) confirms the goods arrived. Locks: the order."""
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if shopper_id is not None and order.shopper_id != shopper_id:
            raise NotFound()
        _receipt_record(order=order, actor=actor, note=note)
    return order


def orders_auto_confirm_due(*, now=None, limit: int = 500) -> int:
    """Mark shipped orders received SIYU_AUTO_CONFIRM_DAYS after they shipped (the worker, hourly).

    The receipt is stamped when this runs, and everything counted from receipt starts there: the
    7-day no-reason return window and the last refund day that commissions and rewards wait for
    (orders.windows). An order with an open after-sale (say "not received") is left alone until
    that is settled, or the shopper's claim would be overtaken by a receipt they never confirmed;
    checked again under the order lock, which a new request takes too.
    Locks: each order, one transaction apiece.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SIYU_AUTO_CONFIRM_DAYS)
    due = list(
        Order.objects.filter(status=S.SHIPPED, shipped_at__lt=cutoff)
        .exclude(after_sales__status__in=AFTERSALE_OPEN)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    done = 0
    for order_id in due:
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            if order.status != S.SHIPPED or order.after_sales.filter(status__in=AFTERSALE_OPEN).exists():
                continue  # confirmed, refunded or claimed meanwhile
            _receipt_record(order=order, actor="system", note="auto-confirmed")
            done += 1
    return done
