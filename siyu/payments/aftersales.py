"""After-sales: refund only, return and refund, exchange. The one public home of every action.

Console pages, API endpoints, the storefront and the demo call these functions and nothing else
(the order side, `siyu.orders.aftersales`, holds lower-level steps only). Each action checks its
own permission, so a rule holds whichever door the request came through:

    action                      who                                   money
    --------------------------  ------------------------------------  ---------------------------
    aftersale_request           the order's shopper                   -
    aftersale_withdraw          the order's shopper, before review    -
    aftersale_review            orders.manage or refunds.approve      moves only for refunds.approve
    aftersale_return_shipped    the order's shopper                   -
    aftersale_receive_return    orders.manage                         moves only for refunds.approve
    aftersale_refund_approve    refunds.approve (owner, finance)      yes
    aftersale_refund_retry      refunds.approve                       yes, after a provider refusal
    aftersale_exchange_retry    orders.manage                         - (siyu.orders.exchanges)
    aftersale_exchange_ship     orders.manage                         -
    aftersale_exchange_received the order's shopper                   -

Money leaves the shop only with `refunds.approve`. Customer service and operators review requests,
ask for the goods back and receive them: approving a refund-only request, or receiving the goods of
a return-and-refund, *recommends* the refund, which then waits in finance's queue (status approved
or returned). An owner or finance member doing the same step approves the refund at once.

Locks (siyu/core/locks.py): the order, then the after-sale, then the payment; stock last.
"""

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Sku
from siyu.core import locks
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.events import event_record
from siyu.core.ids import public_id as new_public_id
from siyu.core.images import image_process
from siyu.core.permissions import Actor, require
from siyu.core.soldout import soldout_clear_on_commit
from siyu.orders.aftersales import (
    MAX_PHOTOS,
    OPEN,
    REASONS,
    policy_check,
    refund_amount_for,
    refund_reserve,
    sale_lock,
    sale_of_shop,
)
from siyu.orders.exchanges import (
    aftersale_exchange_received,
    aftersale_exchange_retry,
    aftersale_exchange_ship,
    exchange_goods_received,
    replacement_sku_for,
)
from siyu.orders.lifecycle import order_lock, timeline_add
from siyu.orders.models import AfterSale, AfterSaleKind, AfterSaleStatus, Order
from siyu.orders.states import AFTERSALE_STATES, REFUND_DUE
from siyu.shops.models import Shop

from .models import Payment, PaymentStatus
from .services import refund_enqueue, refund_record

K, A = AfterSaleKind, AfterSaleStatus
REVIEWERS = ("orders.manage", "refunds.approve")
# The exchange steps move no money and live with the orders (the worker needs them there); they
# are named here so that this module stays the one place interfaces call.
__all__ = [
    "aftersale_exchange_received",
    "aftersale_exchange_retry",
    "aftersale_exchange_ship",
    "aftersale_receive_return",
    "aftersale_refund_approve",
    "aftersale_refund_retry",
    "aftersale_request",
    "aftersale_return_shipped",
    "aftersale_review",
    "aftersale_withdraw",
]


def _require_any(actor: Actor | None, perms: tuple[str, ...], *, shop_id: int) -> None:
    if actor is None or getattr(actor, "shop_id", None) != shop_id or not any(actor.can(p) for p in perms):
        raise PermissionDenied(detail={"permission": " | ".join(perms)})


def _may_pay(actor: Actor) -> bool:
    return actor.can("refunds.approve")


def _locked(*, shop: Shop, public_id: str) -> tuple[Order, AfterSale]:
    """Lock an after-sale's order, then the after-sale itself (the global order)."""
    found = sale_of_shop(shop_id=shop.pk, public_id=public_id)
    order = order_lock(order_id=found.order_id)
    return order, sale_lock(sale_id=found.pk)


def _clean_request(*, kind: str, reason_code: str, reason: str, photos: list | None, quantity) -> tuple[int, list]:
    if kind not in K.values:
        raise InvalidInput(detail={"kind": "unknown"})
    if reason_code not in REASONS:
        raise InvalidInput(detail={"reason_code": "unknown"})
    if len(str(reason or "")) > 300:
        raise InvalidInput(detail={"reason": "at most 300 characters"})
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(detail={"photos": f"at most {MAX_PHOTOS}"})
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"quantity": "not a whole number"}) from None
    return quantity, [image_process(p, field="photos", full_side=1200, thumb_side=300) for p in photos]


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
    """The shopper asks for a refund, a return or an exchange of one line. Locks: the order."""
    quantity, processed = _clean_request(
        kind=kind, reason_code=reason_code, reason=reason, photos=photos, quantity=quantity
    )
    order = Order.objects.filter(shop=shop, shopper=shopper, public_id=str(order_public_id)[:20]).first()
    if order is None:
        raise NotFound(detail={"order": str(order_public_id)[:20]})
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        line = order.lines.filter(pk=line_id).first()
        if line is None:
            raise NotFound(detail={"line": line_id})
        if not 1 <= quantity <= line.quantity - line.refunded_quantity:
            raise InvalidInput(_("Choose how many to return."), detail={"quantity": "out of range"})
        if line.after_sales.filter(status__in=OPEN).exists():
            raise Conflict(_("This item already has an open request."), code="aftersale_open")
        policy_check(order=order, line=line, kind=kind, reason_code=reason_code, quantity=quantity)
        stored = [default_storage.save(f"aftersales/{image.full.name}", image.full) for image in processed]
        amount, postage = (0, 0) if kind == K.EXCHANGE else refund_amount_for(order=order, line=line, quantity=quantity)
        sale = AfterSale.objects.create(
            shop=shop,
            public_id=new_public_id(16),
            order=order,
            line=line,
            kind=kind,
            quantity=quantity,
            amount=amount + postage,
            shipping_amount=postage,
            reason=f"[{reason_code}] {str(reason or '').strip()}"[:300],
            photos=stored,
            replacement_sku_id=line.sku_id if kind == K.EXCHANGE else None,
        )
        event_record(topic="aftersale.requested", shop_id=shop.pk, payload={"after_sale": sale.pk, "from": ""})
        timeline_add(order=order, actor=shopper, action=f"aftersale.{kind}", note=sale.reason)
    return sale


def aftersale_withdraw(*, shop: Shop, shopper: Shopper, public_id: str) -> AfterSale:
    """The shopper takes back a request the shop has not acted on yet (requested → withdrawn);
    they may ask again later within the window, as a withdrawn request is not an open one.

    Locks: the order, then the after-sale. Staff reviewing at the same moment take the same locks
    in the same order, so one of the two wins and the other finds the status moved (409).
    """
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if order.shopper_id != shopper.pk:
            raise NotFound(detail={"after_sale": str(public_id)[:20]})
        if sale.status != A.REQUESTED:
            raise Conflict(
                _("The shop has already handled this request."), code="bad_transition", detail={"from": sale.status}
            )
        AFTERSALE_STATES.move(sale, to=A.WITHDRAWN, actor=shopper, why="withdrawn by the shopper")
        timeline_add(order=order, actor=shopper, action="aftersale.withdraw")
    return sale


def _refund_start(*, order: Order, sale: AfterSale, actor: Actor, action: str, note: str = "") -> None:
    """Approve the money of a due refund: reserve it on the order, record the refund, and hand it
    to the worker after commit. The caller holds the order and after-sale locks; this locks the
    payment (then writes the refund row)."""
    paid = Payment.objects.filter(order_id=order.pk, status=PaymentStatus.SUCCEEDED, outcome__in=["paid", "reinstated"])
    payment = locks.lock_one(paid, rank=locks.PAYMENT)
    if payment is None:
        raise Conflict(_("No payment to refund on this order."), code="no_payment")
    refund_reserve(order=order, sale=sale, actor=actor)
    refund = refund_record(payment=payment, amount=sale.amount, reason="after-sale", after_sale_id=sale.pk)
    timeline_add(order=order, actor=actor, action=action, note=note, data={"amount": sale.amount})
    transaction.on_commit(lambda: refund_enqueue(refund.pk))


def aftersale_review(
    *,
    actor: Actor,
    shop: Shop,
    public_id: str,
    approve: bool,
    note: str = "",
    replacement_sku_id: int | str | None = None,
) -> AfterSale:
    """Approve or reject a request.

    Approving a refund-only request makes the refund due (approved, in finance's queue); when the
    reviewer holds refunds.approve the money goes in the same step. Approving a return or an
    exchange asks the shopper to send the goods back (awaiting_return); for an exchange the
    reviewer may choose another SKU of the same product at the same price as the replacement.
    Locks: the order, the after-sale, then (when money moves) the payment.
    """
    _require_any(actor, REVIEWERS, shop_id=shop.pk)
    note = str(note or "")[:300]
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if sale.status != A.REQUESTED:
            raise Conflict(_("This request was already handled."), code="bad_transition", detail={"from": sale.status})
        fields: dict = {"staff_note": note}
        if not approve:
            to = A.REJECTED
        else:
            to = A.APPROVED if sale.kind == K.REFUND_ONLY else A.AWAITING_RETURN
        if approve and sale.kind == K.EXCHANGE:
            fields["replacement_sku"] = replacement_sku_for(line=sale.line, sku_id=replacement_sku_id)
        AFTERSALE_STATES.move(sale, to=to, actor=actor, why=note, fields=fields)
        timeline_add(order=order, actor=actor, action=f"aftersale.{'approve' if approve else 'reject'}", note=note)
        pays = to == A.APPROVED and _may_pay(actor)
        if pays:
            _refund_start(order=order, sale=sale, actor=actor, action="aftersale.refund_approve")
    if pays:
        sale.refresh_from_db()  # where the worker runs at once (tests, the demo) it is settled by now
    return sale


def aftersale_refund_approve(*, actor: Actor, shop: Shop, public_id: str, note: str = "") -> AfterSale:
    """Finance approves a due refund (approved or returned): the money goes back to the shopper.
    Locks: the order, the after-sale, the payment."""
    require(actor, "refunds.approve", shop_id=shop.pk)
    return _approve_money(actor=actor, shop=shop, public_id=public_id, action="aftersale.refund_approve", note=note)


def aftersale_refund_retry(*, actor: Actor, shop: Shop, public_id: str) -> AfterSale:
    """Send again a refund the provider refused (the request is due again). Same rule and locks as
    approving it."""
    require(actor, "refunds.approve", shop_id=shop.pk)
    return _approve_money(actor=actor, shop=shop, public_id=public_id, action="aftersale.refund_retry")


def _approve_money(*, actor: Actor, shop: Shop, public_id: str, action: str, note: str = "") -> AfterSale:
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if sale.status not in REFUND_DUE:
            raise Conflict(_("No refund is due on this request."), code="bad_transition", detail={"from": sale.status})
        _refund_start(order=order, sale=sale, actor=actor, action=action, note=str(note or "")[:300])
    sale.refresh_from_db()
    return sale


def aftersale_return_shipped(*, shop: Shop, shopper: Shopper, public_id: str, carrier: str, tracking: str) -> AfterSale:
    """The shopper says how the goods come back. Locks: the order, the after-sale."""
    carrier, tracking = str(carrier or "").strip()[:40], str(tracking or "").strip()[:40]
    if not carrier or not tracking:
        raise InvalidInput(detail={"tracking": "carrier and tracking number are required"})
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if order.shopper_id != shopper.pk:
            raise NotFound()
        if sale.status != A.AWAITING_RETURN:
            raise Conflict(code="bad_transition", detail={"from": sale.status})
        sale.return_carrier, sale.return_tracking = carrier, tracking
        sale.save(update_fields=["return_carrier", "return_tracking", "updated_at"])
        timeline_add(order=order, actor=shopper, action="aftersale.return_shipped", note=f"{carrier} {tracking}")
    return sale


def aftersale_receive_return(*, actor: Actor, shop: Shop, public_id: str) -> AfterSale:
    """The returned goods arrived: they go back into stock; a return's refund is due (and approved
    at once when the actor holds refunds.approve); an exchange's replacement is taken from stock,
    or waits for stock (siyu.orders.exchanges).
    Locks: the order, the after-sale, (when money moves) the payment, then the stock rows."""
    require(actor, "orders.manage", shop_id=shop.pk)
    with transaction.atomic():
        order, sale = _locked(shop=shop, public_id=public_id)
        if sale.status != A.AWAITING_RETURN:
            raise Conflict(code="bad_transition", detail={"from": sale.status})
        timeline_add(order=order, actor=actor, action="aftersale.received", data={"quantity": sale.quantity})
        if sale.kind == K.EXCHANGE:
            exchange_goods_received(order=order, sale=sale, actor=actor)
            return sale
        AFTERSALE_STATES.move(sale, to=A.RETURNED, actor=actor, why="goods received")
        pays = _may_pay(actor)
        if pays:
            _refund_start(order=order, sale=sale, actor=actor, action="aftersale.refund_approve")
        sku_id = sale.line.sku_id
        locks.note_update(rank=locks.STOCK, table=Sku._meta.db_table, pks=[sku_id])
        Sku.objects.filter(pk=sku_id).update(stock=F("stock") + sale.quantity)
        soldout_clear_on_commit(sku_ids=[sku_id])
    if pays:
        sale.refresh_from_db()
    return sale
