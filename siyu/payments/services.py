"""Collecting money and giving it back.

Provider calls never happen inside a transaction: reserve and record first, call, then re-lock and
settle. `payment_start` and `refund_execute` open their own *durable* transactions before they ask
the provider, so called from inside a caller's transaction they fail at once (Django refuses a
durable block nested in another) instead of holding that caller's locks across a network call.

Locks follow the global order of siyu/core/locks.py: the order, then its after-sale, then the
payment, then the refund, stock last. Each function below says which it takes.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core import locks
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import Actor, require
from siyu.orders.aftersales import refund_settle, sale_lock
from siyu.orders.lifecycle import order_lock, order_mark_paid
from siyu.orders.models import Order, OrderStatus
from siyu.shops.models import Shop

from .models import Payment, PaymentStatus, Refund, RefundStatus
from .providers import provider_get, providers_enabled
from .providers.base import NotificationRejected, PayAction, RefundNotification, RefundResult, VerifiedNotification
from .states import PAYMENT_STATES, REFUND_STATES

logger = logging.getLogger("siyu.payments")


def _trade_no(prefix: str) -> str:
    return prefix + timezone.now().strftime("%y%m%d") + public_id(14)


def _check_payable(order: Order) -> None:
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(_("This order is not waiting for payment."), code="not_payable", detail={"status": order.status})
    if order.pay_deadline < timezone.now():
        raise Conflict(_("The time to pay has run out."), code="payment_expired")


def payment_open(*, shop: Shop, shopper: Shopper, order_public_id: str, provider: str) -> Payment:
    """The order's open payment for `provider`: reused if there is one, made if not. No provider
    call, so it may run inside a caller's transaction (the demo builder does).

    Locks: the order. Parallel starts queue on it, so the second one finds the first one's row
    instead of racing it into the unique constraint (one open payment per order and provider).
    """
    order = Order.objects.filter(shop=shop, shopper=shopper, public_id=str(order_public_id)[:20]).first()
    if order is None:
        raise NotFound(detail={"order": str(order_public_id)[:20]})
    open_rows = Payment.objects.filter(order_id=order.pk, provider=provider, status=PaymentStatus.CREATED)
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        _check_payable(order)
        payment = open_rows.first()
        if payment is not None:
            return payment
        try:
            with transaction.atomic():
                return Payment.objects.create(
                    shop=shop, order=order, provider=provider, out_trade_no=_trade_no("P"), amount=order.total
                )
        except IntegrityError:
            # Only a writer that skipped the order lock can get here; its row is the open one.
            payment = open_rows.first()
    if payment is None:
        raise Conflict(_("The payment is being opened; try again."), code="payment_busy")
    return payment


def payment_start(
    *, shop: Shop, shopper: Shopper, order_public_id: str, provider: str, return_url: str = ""
) -> PayAction:
    """Open (or reuse) a payment for an unpaid order and ask the provider how the shopper pays.

    Only providers offered to shoppers are accepted (not the staff-only `manual` one), checked
    before anything is written. Runs its own durable transaction (locks: the order), then calls
    the provider outside it.
    """
    offered = providers_enabled(shop=shop)
    if str(provider) not in offered:
        raise InvalidInput(
            _("This payment method is not available."),
            code="unknown_provider",
            detail={"provider": str(provider)[:20], "offered": offered},
        )
    backend = provider_get(provider, shop=shop, offered_only=True)
    with transaction.atomic(durable=True):
        payment = payment_open(shop=shop, shopper=shopper, order_public_id=order_public_id, provider=provider)
    order = payment.order
    return backend.start(payment=payment, description=f"{shop.name} {order.number}", return_url=return_url)


def payment_notify(*, provider: str, headers: dict, body: bytes, shop: Shop | None = None) -> str:
    """Handle a provider's asynchronous notification, a payment or a refund result. Safe to deliver
    any number of times, in parallel, and in any order against our own queries.

    `shop` is the shop the notification URL names: its credentials verify the notification and
    only its payments can be settled by it. WeChat Pay and Alipay without a shop mean the default
    shop (the installation-level URL); the installation-wide sandbox without one may settle any.
    Raises NotificationRejected (a 4xx) for anything forged, stale or not matching our rows.
    """
    if shop is None and provider not in ("sandbox", "manual"):
        shop = Shop.objects.filter(is_default=True).first()
        if shop is None:
            raise NotificationRejected(code="unknown_shop")
    backend = provider_get(provider, shop=shop)
    note = backend.verify(headers=headers, body=body)
    if isinstance(note, RefundNotification):
        return _refund_notified(provider=provider, note=note, shop=shop)
    return _apply(provider=provider, note=note, shop=shop)


def _apply(*, provider: str, note: VerifiedNotification, actor=None, shop: Shop | None = None) -> str:
    """Apply a verified payment result. Locks: the order, then the payment — the order a
    cancellation and an after-sale take too, so a notification racing either only queues.
    The payment row is read first without a lock just to learn its order (that never changes).
    With `shop`, only that shop's payments match: one shop's keys can never pay another's order."""
    rows = Payment.objects.filter(out_trade_no=note.out_trade_no)
    found = (rows.filter(shop_id=shop.pk) if shop else rows).values("pk", "order_id", "provider").first()
    if found is None or found["provider"] != provider:
        raise NotificationRejected(code="unknown_trade", detail={"out_trade_no": note.out_trade_no[:40]})
    actor = actor if actor is not None else provider
    refund_id = None
    with transaction.atomic():
        order = order_lock(order_id=found["order_id"])
        payment = locks.lock_one(Payment.objects.filter(pk=found["pk"]), rank=locks.PAYMENT)
        if payment.status == PaymentStatus.SUCCEEDED:
            return "duplicate"
        if note.amount != payment.amount:
            raise NotificationRejected(code="amount_mismatch", detail={"expected": payment.amount, "got": note.amount})
        if not note.succeeded:
            if payment.status != PaymentStatus.FAILED:  # a repeated failure changes nothing
                failed = {"raw": note.raw}
                PAYMENT_STATES.move(payment, to=PaymentStatus.FAILED, actor=actor, why="failed", fields=failed)
            return "failed"
        fields = {"provider_txn_id": note.provider_txn_id, "paid_at": timezone.now(), "raw": note.raw}
        try:
            with transaction.atomic():
                PAYMENT_STATES.move(payment, to=PaymentStatus.SUCCEEDED, actor=actor, why="paid", fields=fields)
        except IntegrityError:
            raise NotificationRejected(code="duplicate_transaction") from None
        payment.outcome = order_mark_paid(order=order, amount=payment.amount, provider=provider, actor=actor)
        payment.save(update_fields=["outcome"])
        if payment.outcome == "needs_refund":
            refund_id = refund_record(payment=payment, amount=payment.amount, reason="late or duplicate payment").pk
    if refund_id:
        transaction.on_commit(lambda: refund_enqueue(refund_id))
    return payment.outcome


def refund_record(*, payment: Payment, amount: int, reason: str, after_sale_id: int | None = None) -> Refund:
    """Write the refund with its idempotency key (our out_refund_no) before any provider call.

    Locks: the caller holds the order, the after-sale if any, and the payment. The conditional
    update keeps a payment's refunds within what it took.
    """
    if not Payment.objects.filter(pk=payment.pk, refunded_amount__lte=F("amount") - amount).update(
        refunded_amount=F("refunded_amount") + amount
    ):
        raise Conflict(_("The refund would exceed what was paid."), code="refund_exceeds_paid")
    return Refund.objects.create(
        shop_id=payment.shop_id,
        payment=payment,
        after_sale_id=after_sale_id,
        out_refund_no=_trade_no("R"),
        amount=amount,
        reason=reason[:100],
    )


def refund_enqueue(refund_id: int) -> None:
    """Hand a recorded refund to the worker; call it from transaction.on_commit."""
    from .tasks import refund_run

    refund_run(refund_id)


def refund_execute(*, refund_id: int) -> str:
    """Submit a pending refund to the provider, then settle it if the answer is final. Repeatable:
    the provider dedupes by out_refund_no and a settled refund is left alone. An answer that is not
    final (WeChat Pay PROCESSING) keeps it pending: the result comes by notification or by the
    reconcile task's query (`refund_check`), whichever is first.

    Never inside a caller's transaction (durable blocks). Locks: see `_refund_finish`.
    """
    with transaction.atomic(durable=True):
        refund = Refund.objects.select_related("payment__shop").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund.status
    backend = provider_get(refund.payment.provider, shop=refund.payment.shop)
    return _refund_answered(refund=refund, result=backend.refund(payment=refund.payment, refund=refund))


def refund_check(*, refund_id: int) -> str:
    """Ask the provider for the result of a pending refund (the reconcile task): a query when the
    provider accepted it earlier, a new submission (same out_refund_no) when it may never have
    reached the provider. Never inside a caller's transaction."""
    with transaction.atomic(durable=True):
        refund = Refund.objects.select_related("payment__shop").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund.status
    backend = provider_get(refund.payment.provider, shop=refund.payment.shop)
    if refund.submitted_at is None:
        result = backend.refund(payment=refund.payment, refund=refund)
    else:
        result = backend.refund_query(payment=refund.payment, refund=refund)
    return _refund_answered(refund=refund, result=result)


def _refund_answered(*, refund: Refund, result: RefundResult) -> str:
    if result.succeeded is not None:
        return _refund_finish(refund_id=refund.pk, succeeded=result.succeeded, result=result)[0]
    if result.submitted:  # remember that the provider has it; never overwrite a settled row
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING, submitted_at__isnull=True).update(
            submitted_at=timezone.now(), provider_refund_id=result.provider_refund_id[:64]
        )
    # The provider's notification may have settled it while we waited for this answer.
    return Refund.objects.filter(pk=refund.pk).values_list("status", flat=True).get()


def _refund_notified(*, provider: str, note: RefundNotification, shop: Shop | None) -> str:
    """A refund result pushed by the provider: it must name one of this shop's refunds, through the
    same payment and for the same amount, or it is refused (4xx)."""
    rows = Refund.objects.filter(out_refund_no=note.out_refund_no)
    found = (rows.filter(shop_id=shop.pk) if shop else rows).select_related("payment").first()
    if found is None or found.payment.provider != provider or found.payment.out_trade_no != note.out_trade_no:
        raise NotificationRejected(code="unknown_refund", detail={"out_refund_no": note.out_refund_no[:40]})
    if note.amount != found.amount:
        raise NotificationRejected(code="amount_mismatch", detail={"expected": found.amount, "got": note.amount})
    if note.succeeded is None:
        return "processing"
    result = RefundResult(succeeded=note.succeeded, provider_refund_id=note.provider_refund_id, message=note.message)
    status, changed = _refund_finish(refund_id=found.pk, succeeded=note.succeeded, result=result)
    return "refund_" + status if changed else "duplicate"


def _refund_finish(*, refund_id: int, succeeded: bool, result: RefundResult) -> tuple[str, bool]:
    """Settle a pending refund with a final answer, once: whichever of our call, our query and the
    provider's notification comes first settles it, the others find it settled and change nothing.
    Returns (the refund's status, whether this call settled it).

    A failure gives the amount back to the payment and sends the after-sale back to finance (due
    again, the provider's reason on the order's timeline). Locks: the order, its after-sale, the
    payment, then the refund — the order an after-sale approval takes, so nothing deadlocks.
    """
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    with transaction.atomic():
        order = order_lock(order_id=refund.payment.order_id)
        sale = sale_lock(sale_id=refund.after_sale_id) if refund.after_sale_id else None
        payment = locks.lock_one(Payment.objects.filter(pk=refund.payment_id), rank=locks.PAYMENT)
        refund = locks.lock_one(Refund.objects.filter(pk=refund_id), rank=locks.REFUND)
        if refund.status != RefundStatus.PENDING:
            if (refund.status == RefundStatus.SUCCEEDED) != succeeded:
                logger.error("refund %s: %s already, now told %s", refund.out_refund_no, refund.status, succeeded)
            return refund.status, False
        to = RefundStatus.SUCCEEDED if succeeded else RefundStatus.FAILED
        fields = {
            "provider_refund_id": (result.provider_refund_id or refund.provider_refund_id)[:64],
            "finished_at": timezone.now(),
            "result_message": result.message[:200],
        }
        REFUND_STATES.move(refund, to=to, actor=payment.provider, why=result.message, fields=fields)
        if not succeeded:
            Payment.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") - refund.amount)
        if sale is not None:
            refund_settle(order=order, sale=sale, succeeded=succeeded, note=result.message)
    return refund.status, True


def payment_record_manual(*, actor: Actor, shop: Shop, order_public_id: str, amount: int, reference: str) -> str:
    """Finance records a bank or personal transfer; it then follows the same path as a notification.

    Only for an order waiting for payment (or cancelled meanwhile: the transfer then reinstates it
    or goes back). An order already paid is refused (409) before anything is written: no money
    moved through us, so there is nothing to refund. Locks: the order, then the new payment.
    """
    require(actor, "finance.manage", shop_id=shop.pk)
    reference = str(reference or "").strip()
    if not 4 <= len(reference) <= 40:
        raise InvalidInput(detail={"reference": "4 to 40 characters"})
    order = Order.objects.filter(shop=shop, public_id=str(order_public_id)[:20]).first()
    if order is None:
        raise NotFound(detail={"order": str(order_public_id)[:20]})
    if amount != order.total:
        raise InvalidInput(_("The amount must equal the order total."), detail={"total": order.total})
    txn_id = f"manual_{shop.pk}_{reference}"
    duplicate = Conflict(_("This transfer reference was recorded already."), code="duplicate_reference")
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        if order.status not in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED):
            raise Conflict(
                _("This order is already paid; the transfer is not recorded."),
                code="already_paid",
                detail={"status": order.status},
            )
        if Payment.objects.filter(provider_txn_id=txn_id).exists():
            raise duplicate
        payment = Payment.objects.create(
            shop=shop, order=order, provider="manual", out_trade_no=_trade_no("M"), amount=amount
        )
        note = VerifiedNotification(
            out_trade_no=payment.out_trade_no,
            provider_txn_id=txn_id,
            amount=amount,
            succeeded=True,
            raw={"reference": reference, "by": actor.pk},
        )
        try:
            return _apply(provider="manual", note=note, actor=actor)
        except NotificationRejected as exc:  # the same reference recorded in parallel
            raise duplicate from exc


def payments_reconcile(*, older_than_seconds: int = 120, limit: int = 200) -> dict:
    """Ask providers about payments and refunds left unresolved (lost notifications, timeouts,
    refunds still processing), each with the credentials of the shop it belongs to."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    day_ago = timezone.now() - timedelta(days=1)
    checked = settled = 0
    open_payments = Payment.objects.filter(
        status=PaymentStatus.CREATED, created_at__lt=cutoff, created_at__gt=day_ago
    ).select_related("shop")
    for payment in open_payments.exclude(provider__in=["manual", "sandbox"])[:limit]:
        checked += 1
        try:
            note = provider_get(payment.provider, shop=payment.shop).query(payment=payment)
            if note is not None and _apply(provider=payment.provider, note=note, shop=payment.shop) in (
                "paid",
                "reinstated",
            ):
                settled += 1
        except (DomainError, OSError) as exc:
            logger.warning("reconcile %s: %s", payment.out_trade_no, exc)
    refunds = list(
        Refund.objects.filter(status=RefundStatus.PENDING, created_at__lt=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    refunds_settled = 0
    for refund_id in refunds:
        try:
            if refund_check(refund_id=refund_id) != RefundStatus.PENDING:
                refunds_settled += 1
        except (DomainError, OSError) as exc:
            logger.warning("refund %s: %s", refund_id, exc)
    return {
        "payments_checked": checked,
        "payments_settled": settled,
        "refunds_retried": len(refunds),
        "refunds_settled": refunds_settled,
    }


def sandbox_pay(*, payment: Payment) -> None:
    """The shopper pressed 'pay' on the sandbox page: the sandbox bank will notify us from the worker."""
    from .tasks import sandbox_deliver

    if payment.provider != "sandbox" or payment.status != PaymentStatus.CREATED:
        raise Conflict(_("This payment is not open."), code="not_payable")
    sandbox_deliver(payment.out_trade_no, payment.amount, "sb" + public_id(20))
