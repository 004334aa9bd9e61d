"""After-sales: refund only, return and refund, exchange — within each product's return policy.

Money never moves here: approving a refund marks it due, and the payments domain reserves the
amount on the order (`refund_reserve`), calls the provider, then settles (`refund_settle`).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import ReturnPolicy, Sku
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.events import event_record
from siyu.core.ids import public_id
from siyu.core.images import image_process
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .lifecycle import order_lock, timeline_add, transition
from .models import AfterSale, AfterSaleKind, AfterSaleStatus, Order, OrderLine, OrderStatus

K, A = AfterSaleKind, AfterSaleStatus
OPEN = {A.REQUESTED, A.APPROVED, A.AWAITING_RETURN, A.RETURNED, A.REFUNDING}
REASONS = {"no_reason", "quality", "wrong_item", "not_received", "other"}
QUALITY_REASONS = {"quality", "wrong_item"}
MAX_PHOTOS = 6


def _policy_check(*, order: Order, line: OrderLine, kind: str, reason_code: str, quantity: int) -> None:
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


def aftersale_request(
    *,
    shop: Shop,
    shopper: Shopper,
    order_public_id: str,
    line_id: int,
    kind: str,
    quantity: int,
    reason_code: str,
    reason: str = "",
    photos: list | None = None,
) -> AfterSale:
    if kind not in K.values:
        raise InvalidInput(detail={"kind": "unknown"})
    if reason_code not in REASONS:
        raise InvalidInput(detail={"reason_code": "unknown"})
    if len(str(reason or "")) > 300:
        raise InvalidInput(detail={"reason": "at most 300 characters"})
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(detail={"photos": f"at most {MAX_PHOTOS}"})
    processed = [image_process(p, field="photos", full_side=1200, thumb_side=300) for p in photos]
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"quantity": "not a whole number"}) from None
    order = Order.objects.filter(shop=shop, shopper=shopper, public_id=str(order_public_id)).first()
    if order is None:
        raise NotFound(detail={"order": order_public_id})
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        line = order.lines.filter(pk=line_id).first()
        if line is None:
            raise NotFound(detail={"line": line_id})
        if not 1 <= quantity <= line.quantity - line.refunded_quantity:
            raise InvalidInput(_("Choose how many to return."), detail={"quantity": "out of range"})
        if line.after_sales.filter(status__in=OPEN).exists():
            raise Conflict(_("This item already has an open request."), code="aftersale_open")
        _policy_check(order=order, line=line, kind=kind, reason_code=reason_code, quantity=quantity)
        stored = []
        from django.core.files.storage import default_storage

        for image in processed:
            stored.append(default_storage.save(f"aftersales/{image.full.name}", image.full))
        amount, postage = (0, 0) if kind == K.EXCHANGE else refund_amount_for(order=order, line=line, quantity=quantity)
        sale = AfterSale.objects.create(
            shop=shop,
            public_id=public_id(16),
            order=order,
            line=line,
            kind=kind,
            quantity=quantity,
            amount=amount + postage,
            shipping_amount=postage,
            reason=f"[{reason_code}] {str(reason or '').strip()}"[:300],
            photos=stored,
        )
        timeline_add(order=order, actor=shopper, action=f"aftersale.{kind}", note=sale.reason)
    return sale


def aftersale_lock(*, shop_id: int, public_id: str) -> AfterSale:
    sale = AfterSale.objects.select_for_update().filter(shop_id=shop_id, public_id=public_id).first()
    if sale is None:
        raise NotFound(detail={"after_sale": public_id})
    return sale


def aftersale_review(*, actor: Actor, shop: Shop, public_id: str, approve: bool, note: str = "") -> AfterSale:
    """Staff decide. Approving a refund-only request makes the refund due (status approved)."""
    require(actor, "orders.manage", shop_id=shop.pk)
    with transaction.atomic():
        sale = aftersale_lock(shop_id=shop.pk, public_id=public_id)
        if sale.status != A.REQUESTED:
            raise Conflict(_("This request was already handled."), code="bad_transition", detail={"from": sale.status})
        order = order_lock(order_id=sale.order_id)
        if not approve:
            sale.status = A.REJECTED
        elif sale.kind == K.REFUND_ONLY:
            sale.status = A.APPROVED
        else:
            sale.status = A.AWAITING_RETURN
        sale.staff_note = str(note or "")[:300]
        sale.save(update_fields=["status", "staff_note", "updated_at"])
        timeline_add(order=order, actor=actor, action=f"aftersale.{'approve' if approve else 'reject'}", note=note)
    return sale


def aftersale_return_shipped(*, shop: Shop, shopper: Shopper, public_id: str, carrier: str, tracking: str) -> AfterSale:
    carrier, tracking = str(carrier or "").strip()[:40], str(tracking or "").strip()[:40]
    if not carrier or not tracking:
        raise InvalidInput(detail={"tracking": "carrier and tracking number are required"})
    with transaction.atomic():
        sale = aftersale_lock(shop_id=shop.pk, public_id=public_id)
        if sale.order.shopper_id != shopper.pk:
            raise NotFound()
        if sale.status != A.AWAITING_RETURN:
            raise Conflict(code="bad_transition", detail={"from": sale.status})
        sale.return_carrier, sale.return_tracking = carrier, tracking
        sale.save(update_fields=["return_carrier", "return_tracking", "updated_at"])
        timeline_add(order=sale.order, actor=shopper, action="aftersale.return_shipped", note=f"{carrier} {tracking}")
    return sale


def aftersale_receive_return(*, actor: Actor, shop: Shop, public_id: str) -> AfterSale:
    """The returned goods arrived: back into stock; a refund becomes due (or the exchange is done)."""
    require(actor, "orders.manage", shop_id=shop.pk)
    with transaction.atomic():
        sale = aftersale_lock(shop_id=shop.pk, public_id=public_id)
        if sale.status != A.AWAITING_RETURN:
            raise Conflict(code="bad_transition", detail={"from": sale.status})
        Sku.objects.filter(pk=sale.line.sku_id).update(stock=F("stock") + sale.quantity)
        sale.status = A.EXCHANGED if sale.kind == K.EXCHANGE else A.RETURNED
        sale.save(update_fields=["status", "updated_at"])
        timeline_add(order=sale.order, actor=actor, action="aftersale.received", note=f"{sale.quantity} back in stock")
    return sale


# --- refunds (called by the payments domain) ----------------------------------------------


def refund_reserve(*, shop_id: int, public_id: str) -> AfterSale:
    """Commit a due refund's amount against the order, before any provider call.

    Under the order row lock, the order's refunded total can never pass what was paid (and a
    database constraint says so too), so racing refunds cannot overpay.
    """
    sale = aftersale_lock(shop_id=shop_id, public_id=public_id)
    if sale.status not in (A.APPROVED, A.RETURNED):
        raise Conflict(_("No refund is due on this request."), code="bad_transition", detail={"from": sale.status})
    order = order_lock(order_id=sale.order_id)
    if sale.amount > order.paid_amount - order.refunded_amount:
        raise Conflict(
            _("The refund would exceed what was paid."),
            code="refund_exceeds_paid",
            detail={"refundable": order.paid_amount - order.refunded_amount},
        )
    Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") + sale.amount)
    sale.status = A.REFUNDING
    sale.save(update_fields=["status", "updated_at"])
    return sale


def refund_settle(*, after_sale_id: int, succeeded: bool, note: str = "") -> AfterSale:
    """The provider answered: finish the refund or give the reserved amount back."""
    sale = AfterSale.objects.select_for_update().get(pk=after_sale_id)
    order = order_lock(order_id=sale.order_id)
    if sale.status != A.REFUNDING:
        return sale  # settled already: a repeated answer changes nothing
    if not succeeded:
        Order.objects.filter(pk=order.pk).update(refunded_amount=F("refunded_amount") - sale.amount)
        sale.status = A.RETURNED if sale.kind == K.RETURN_REFUND else A.APPROVED
        sale.save(update_fields=["status", "updated_at"])
        timeline_add(order=order, actor="payment", action="refund.failed", note=note)
        return sale
    OrderLine.objects.filter(pk=sale.line_id).update(
        refunded_quantity=F("refunded_quantity") + sale.quantity,
        refunded_amount=F("refunded_amount") + sale.amount - sale.shipping_amount,
    )
    sale.status = A.REFUNDED
    sale.save(update_fields=["status", "updated_at"])
    order.refresh_from_db()
    timeline_add(order=order, actor="payment", action="refund", note=f"{sale.amount} fen {note}".strip())
    if order.refunded_amount >= order.paid_amount:
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
