"""After-sales, the order side: lower-level steps only. Not an entry point.

Interfaces, tasks and other domains call `siyu.payments.aftersales`, the one public home of every
after-sale action (it checks permissions and moves the money). The functions here check a line's
return policy, work out what a refund is worth, lock after-sale rows and change the order's
refunded amounts; each says which locks its caller must already hold (siyu/core/locks.py: the
order, then the after-sale).
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import ReturnPolicy
from siyu.core import locks
from siyu.core.errors import Conflict, NotFound
from siyu.core.events import event_record

from .lifecycle import timeline_add, transition
from .models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine, OrderStatus
from .states import AFTERSALE_STATES, OPEN, REFUND_DUE

K, A = AfterSaleKind, AfterSaleStatus
REASONS = {"no_reason", "quality", "wrong_item", "not_received", "other"}
QUALITY_REASONS = {"quality", "wrong_item"}
MAX_PHOTOS = 6

__all__ = [
    "MAX_PHOTOS",
    "OPEN",
    "policy_check",
    "REASONS",
    "refund_amount_for",
    "refund_reserve",
    "refund_settle",
    "sale_lock",
    "sale_of_shop",
]


def policy_check(*, order: Order, line: OrderLine, kind: str, reason_code: str, quantity: int) -> None:
    """Refuse what the line's policy does not allow. Unshipped units can always be refunded."""
    unshipped = line.quantity - line.shipped_quantity - line.refunded_quantity
    if (
        kind == K.REFUND_ONLY
        and quantity <= unshipped
        and order.status in (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED)
    ):
        return
    if order.status == OrderStatus.SHIPPED and reason_code in {"not_received", "quality", "wrong_item"}:
        return
    if order.status != OrderStatus.COMPLETED or order.received_at is None:
        raise Conflict(_("Confirm receipt first, or ask for a refund of items not shipped."), code="not_received_yet")
    received = timezone.localtime(order.received_at).date()
    today = timezone.localdate()
    if reason_code in QUALITY_REASONS:
        if today > received + timedelta(days=settings.SIYU_QUALITY_CLAIM_DAYS):
            raise Conflict(_("The period for quality claims has ended."), code="window_closed")
        return
    policy = line.return_policy
    if policy == ReturnPolicy.EXCHANGE_ONLY and kind != K.EXCHANGE:
        raise Conflict(_("This item can only be exchanged."), code="policy_exchange_only")
    if policy in (ReturnPolicy.QUALITY_ONLY, ReturnPolicy.NO_RETURNS):
        raise Conflict(
            _("This item can only be returned for quality problems."), code="policy_refused", detail={"policy": policy}
        )
    # The 7 days are counted from the day after receipt.
    if today > received + timedelta(days=settings.SIYU_NO_REASON_RETURN_DAYS):
        raise Conflict(_("The 7-day return period has ended."), code="window_closed")


def refund_amount_for(*, order: Order, line: OrderLine, quantity: int) -> tuple[int, int]:
    """What goes back for `quantity` more units of a line: its share of what was actually paid.

    Order-level discounts (member discount, points) are spread over the lines in proportion to
    their totals, rounded down per unit; the last refund of an order takes whatever is left, so a
    full refund returns exactly what was paid. Postage goes back when the whole order is refunded
    before anything shipped. Returns (line amount, other amount: postage and rounding).
    """
    lines = list(order.lines.all())
    goods_paid = order.subtotal - order.discount
    net = line.line_total * goods_paid // order.subtotal if order.subtotal else 0
    done = line.refunded_quantity
    amount = net * (done + quantity) // line.quantity - net * done // line.quantity
    others_done = all(ln.refunded_quantity == ln.quantity for ln in lines if ln.pk != line.pk)
    if not (others_done and done + quantity == line.quantity):
        return amount, 0
    remainder = goods_paid - sum(ln.refunded_amount for ln in lines)
    amount = min(remainder, line.line_total - line.refunded_amount)
    extra = remainder - amount
    if all(ln.shipped_quantity == 0 for ln in lines):
        extra += order.shipping_fee
    return amount, extra


def sale_of_shop(*, shop_id: int, public_id: str) -> AfterSale:
    """Find a shop's after-sale without locking it (to learn its order before taking locks)."""
    sale = AfterSale.objects.filter(shop_id=shop_id, public_id=str(public_id)[:20]).first()
    if sale is None:
        raise NotFound(detail={"after_sale": str(public_id)[:20]})
    return sale


def sale_lock(*, sale_id: int) -> AfterSale:
    """Lock one after-sale row. The caller already holds its order's lock (rank ORDER first)."""
    sale = locks.lock_one(AfterSale.objects.filter(pk=sale_id), rank=locks.AFTERSALE)
    if sale is None:
        raise NotFound(detail={"after_sale": sale_id})
    return sale


def refund_reserve(*, order: Order, sale: AfterSale, actor) -> None:
    """Commit a due refund's amount against the order, before any provider call.

    Locks: the caller holds the order and the after-sale. Under the order lock the order's refunded
    total can never pass what was paid (a database constraint says so too), so racing refunds
    cannot overpay.
    """
    if sale.status not in REFUND_DUE:
        raise Conflict(_("No refund is due on this request."), code="bad_transition", detail={"from": sale.status})
    refundable = order.paid_amount - order.refunded_amount
    if sale.amount > refundable:
        raise Conflict(
            _("The refund would exceed what was paid."), code="refund_exceeds_paid", detail={"refundable": refundable}
        )
    Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") + sale.amount)
    order.refunded_amount += sale.amount
    AFTERSALE_STATES.move(sale, to=A.REFUNDING, actor=actor, why="refund approved")


def refund_settle(*, order: Order, sale: AfterSale, succeeded: bool, note: str = "") -> AfterSale:
    """The provider answered: finish the refund or give the reserved amount back.

    Locks: the caller holds the order, the after-sale, the payment and the refund, in that order.
    A repeated answer changes nothing.
    """
    if sale.status != A.REFUNDING:
        return sale
    if not succeeded:
        Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") - sale.amount)
        due_again = A.RETURNED if sale.kind == K.RETURN_REFUND else A.APPROVED
        AFTERSALE_STATES.move(sale, to=due_again, actor="payment", why=note or "refund failed")
        timeline_add(order=order, actor="payment", action="refund.failed", note=note)
        return sale
    OrderLine.objects.filter(pk=sale.line_id).update(
        refunded_quantity=F("refunded_quantity") + sale.quantity,
        refunded_amount=F("refunded_amount") + sale.amount - sale.shipping_amount,
    )
    AFTERSALE_STATES.move(sale, to=A.REFUNDED, actor="payment", why=note)
    order.refresh_from_db()
    timeline_add(order=order, actor="payment", action="refund", note=note, data={"amount": sale.amount})
    # `refunded_amount` also counts refunds still at the provider: close only when the last one has
    # settled, or a refund settling after another one reserved its amount would find the order closed.
    in_flight = AfterSale.objects.filter(order_id=order.pk, status=A.REFUNDING).exists()
    if order.refunded_amount >= order.paid_amount and not in_flight and order.status != OrderStatus.CLOSED:
        transition(order=order, to=OrderStatus.CLOSED, actor="payment", action="close", note="fully refunded")
    event_record(
        topic="order.refunded",
        shop_id=order.shop_id,
        payload={
            "order": order.pk,
            "after_sale": sale.pk,
            "amount": sale.amount,
            "line": sale.line_id,
            "quantity": sale.quantity,
        },
    )
    return sale
