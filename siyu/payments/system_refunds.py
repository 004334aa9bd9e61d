"""Whole-order refunds the system decides (a group buy that did not form), with no shopper request
and no finance approval: the money goes back through the provider that took it.

`order_refund_whole` records the refund the way an approved after-sale does — one refund-only
after-sale per line that still has something to give back, its amount reserved on the order, a
Refund row with its idempotency key — so the same settlement runs: `order.refunded` fires per line
(points, commissions, rewards and coupons are reversed by their subscribers) and the order is
closed when the last refund settles.

Claim, call, settle (docs: DESIGN.md rule 2):
1. one durable transaction claims the work under the order's lock (after that nothing is left to
   claim, so a second call, or one racing it, records nothing);
2. the provider is called outside any transaction (`refund_execute`);
3. the answer is settled under fresh locks (`_refund_finish` in siyu.payments.services).
A provider that is down leaves the refund pending; the reconcile task submits it again with the
same out_refund_no. A provider refusal puts the after-sale back in finance's queue (approved);
calling this again starts it once more.

Locks (siyu/core/locks.py): the order, its after-sales (pk order), then the payment.
"""

import logging

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from siyu.core import locks
from siyu.core.errors import Conflict, DomainError
from siyu.core.ids import public_id
from siyu.orders.aftersales import refund_reserve
from siyu.orders.lifecycle import order_lock, timeline_add
from siyu.orders.models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine, OrderStatus
from siyu.orders.states import AFTERSALE_STATES, REFUND_DUE

from .models import Payment, PaymentStatus, Refund, RefundStatus
from .services import refund_execute, refund_record

logger = logging.getLogger("siyu.payments")
A = AfterSaleStatus
REFUNDABLE = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
# After-sales a full refund supersedes (a request nobody acted on) or takes over (a refund due).
_SUPERSEDED = (A.REQUESTED,)
# Goods on their way back or a replacement in progress: a person decides, not the system.
_BUSY = (A.AWAITING_RETURN, A.AWAITING_STOCK, A.REPLACEMENT_READY, A.REPLACEMENT_SENT)


def order_refund_whole(*, order_id: int, reason: str, actor="system") -> str:
    """Refund everything still refundable on a paid order, through its original payment.

    Returns "refunded" (settled, the order closed), "pending" (the provider has not answered yet),
    "failed" (the provider refused: due again in finance's queue) or "nothing" (nothing was left to
    claim: already refunded or claimed by an earlier call). Raises Conflict for an unpaid order or
    one with goods on their way back. Never inside a caller's transaction (durable block).
    """
    refund_ids = _claim(order_id=order_id, reason=str(reason or "")[:100], actor=actor)
    if not refund_ids:
        return "nothing"
    statuses = []
    for refund_id in refund_ids:
        try:
            statuses.append(refund_execute(refund_id=refund_id))
        except DomainError as exc:  # provider down: pending; the reconcile task submits it again
            logger.warning("system refund %s: %s", refund_id, exc)
            statuses.append(RefundStatus.PENDING)
    if RefundStatus.FAILED in statuses:
        return "failed"
    if RefundStatus.PENDING in statuses:
        return "pending"
    return "refunded"


def _claim(*, order_id: int, reason: str, actor) -> list[int]:
    """Reserve and record every refund still to make, in one transaction. Returns the refund ids."""
    with transaction.atomic(durable=True):
        order = order_lock(order_id=order_id)
        if order.status == OrderStatus.CLOSED:
            return []
        if order.status not in REFUNDABLE:
            raise Conflict(_("This order is not paid."), code="not_paid", detail={"status": order.status})
        sales = locks.lock_rows(AfterSale.objects.filter(order_id=order.pk), rank=locks.AFTERSALE)
        if any(s.status in _BUSY for s in sales):
            raise Conflict(_("Goods are on their way back for this order."), code="aftersale_in_progress")
        for sale in sales:
            if sale.status in _SUPERSEDED:
                AFTERSALE_STATES.move(sale, to=A.REJECTED, actor=actor, why="superseded by a full refund")
        due = [s for s in sales if s.status in REFUND_DUE]
        lines = list(order.lines.all())
        new = _new_sales(order=order, lines=lines, sales=sales, reason=reason, actor=actor)
        work = due + new
        if not work:
            return []
        paid = Payment.objects.filter(
            order_id=order.pk, status=PaymentStatus.SUCCEEDED, outcome__in=["paid", "reinstated"]
        )
        payment = locks.lock_one(paid, rank=locks.PAYMENT)
        if payment is None:
            raise Conflict(_("No payment to refund on this order."), code="no_payment")
        refunds: list[Refund] = []
        for sale in work:
            refund_reserve(order=order, sale=sale, actor=actor)
            refunds.append(refund_record(payment=payment, amount=sale.amount, reason=reason, after_sale_id=sale.pk))
        total = sum(r.amount for r in refunds)
        timeline_add(order=order, actor=actor, action="refund.system", note=reason, data={"amount": total})
    return [r.pk for r in refunds]


def _new_sales(*, order: Order, lines: list[OrderLine], sales: list[AfterSale], reason: str, actor) -> list[AfterSale]:
    """Refund-only after-sales (approved) for what no refund covers yet: the quantity of each line
    not refunded or being refunded, and of the money still refundable after the refunds due.

    Goods are valued as `refund_amount_for` values them (order discounts spread over lines in
    proportion); the last new after-sale takes the rest — postage and rounding — as its
    `shipping_amount`, so the refunds add up to exactly what is refundable."""
    committed = [s for s in sales if s.status in (A.REFUNDING, *REFUND_DUE)]
    left = order.paid_amount - order.refunded_amount - sum(s.amount for s in sales if s.status in REFUND_DUE)
    if left <= 0:
        return []
    goods_paid = order.subtotal - order.discount
    plan: list[tuple[OrderLine, int, int]] = []  # (line, quantity, goods amount)
    for line in lines:
        taken = [s for s in committed if s.line_id == line.pk]
        quantity = line.quantity - line.refunded_quantity - sum(s.quantity for s in taken)
        room = line.line_total - line.refunded_amount - sum(s.amount - s.shipping_amount for s in taken)
        if quantity <= 0 or room <= 0:
            continue
        net = line.line_total * goods_paid // order.subtotal if order.subtotal else 0
        plan.append((line, quantity, min(room, net * quantity // line.quantity)))
    if not plan:  # every unit is covered: what is left is postage or rounding, on the last line
        plan = [(lines[-1], 0, 0)]
    # Goods paid for and not yet given back (as refund_amount_for's last refund counts them).
    goods_left = goods_paid - sum(ln.refunded_amount for ln in lines)
    goods_left -= sum(s.amount - s.shipping_amount for s in committed)
    made = []
    for i, (line, quantity, goods) in enumerate(plan):
        last = i == len(plan) - 1
        if last and quantity:
            taken = [s for s in committed if s.line_id == line.pk]
            room = line.line_total - line.refunded_amount - sum(s.amount - s.shipping_amount for s in taken)
            goods = min(room, max(goods, goods_left))
        goods = max(0, min(goods, left))
        amount = left if last else goods
        goods_left -= goods
        sale = AfterSale.objects.create(
            shop_id=order.shop_id,
            public_id=public_id(16),
            order=order,
            line=line,
            kind=AfterSaleKind.REFUND_ONLY,
            quantity=quantity,
            amount=amount,
            shipping_amount=amount - goods,
            reason=f"[other] {reason}"[:300],
        )
        AFTERSALE_STATES.move(sale, to=A.APPROVED, actor=actor, why=reason)
        left -= amount
        made.append(sale)
    return made
