"""Collecting money and giving it back. Provider calls never happen inside a transaction:
reserve and record first, call, then re-lock and settle."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import Actor, require
from siyu.orders.aftersales import aftersale_receive_return, aftersale_review, refund_reserve, refund_settle
from siyu.orders.lifecycle import order_mark_paid
from siyu.orders.models import AfterSaleStatus, Order, OrderStatus
from siyu.shops.models import Shop

from .models import Payment, PaymentStatus, Refund, RefundStatus
from .providers import provider_get
from .providers.base import NotificationRejected, PayAction, VerifiedNotification

logger = logging.getLogger("siyu.payments")


def _trade_no(prefix: str) -> str:
    return prefix + timezone.now().strftime("%y%m%d") + public_id(14)


def payment_start(
    *, shop: Shop, shopper: Shopper, order_public_id: str, provider: str, return_url: str = ""
) -> PayAction:
    """Open (or reuse) a payment for an unpaid order and ask the provider how the shopper pays."""
    order = Order.objects.filter(shop=shop, shopper=shopper, public_id=str(order_public_id)).first()
    if order is None:
        raise NotFound(detail={"order": order_public_id})
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(_("This order is not waiting for payment."), code="not_payable", detail={"status": order.status})
    if order.pay_deadline < timezone.now():
        raise Conflict(_("The time to pay has run out."), code="payment_expired")
    backend = provider_get(provider)
    payment = Payment.objects.filter(order=order, provider=provider, status=PaymentStatus.CREATED).first()
    if payment is None:
        payment = Payment.objects.create(
            shop=shop, order=order, provider=provider, out_trade_no=_trade_no("P"), amount=order.total
        )
    return backend.start(payment=payment, description=f"{shop.name} {order.number}", return_url=return_url)


def payment_notify(*, provider: str, headers: dict, body: bytes) -> str:
    """Handle a provider's asynchronous notification. Safe to deliver any number of times, in parallel.

    Raises NotificationRejected (a 4xx) for anything forged, stale or not matching our payment.
    """
    backend = provider_get(provider)
    note = backend.verify(headers=headers, body=body)
    return _apply(provider=provider, note=note)


def _apply(*, provider: str, note: VerifiedNotification) -> str:
    refund_id = None
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(out_trade_no=note.out_trade_no).first()
        if payment is None or payment.provider != provider:
            raise NotificationRejected(code="unknown_trade", detail={"out_trade_no": note.out_trade_no[:40]})
        if payment.status == PaymentStatus.SUCCEEDED:
            return "duplicate"
        if note.amount != payment.amount:
            raise NotificationRejected(code="amount_mismatch", detail={"expected": payment.amount, "got": note.amount})
        if not note.succeeded:
            Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED, raw=note.raw)
            return "failed"
        payment.status, payment.provider_txn_id, payment.paid_at = (
            PaymentStatus.SUCCEEDED,
            note.provider_txn_id,
            timezone.now(),
        )
        payment.raw = note.raw
        try:
            with transaction.atomic():
                payment.save(update_fields=["status", "provider_txn_id", "paid_at", "raw"])
        except IntegrityError:
            raise NotificationRejected(code="duplicate_transaction") from None
        payment.outcome = order_mark_paid(order_id=payment.order_id, amount=payment.amount, provider=provider)
        payment.save(update_fields=["outcome"])
        if payment.outcome == "needs_refund":
            refund_id = _refund_record(payment=payment, amount=payment.amount, reason="late or duplicate payment").pk
    if refund_id:
        transaction.on_commit(lambda: _refund_enqueue(refund_id))
    return payment.outcome


def _refund_record(*, payment: Payment, amount: int, reason: str, after_sale_id: int | None = None) -> Refund:
    """Write the refund with its idempotency key (our out_refund_no) before any provider call."""
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


def _refund_enqueue(refund_id: int) -> None:
    from .tasks import refund_run

    refund_run(refund_id)


def refund_execute(*, refund_id: int) -> str:
    """Call the provider for a pending refund, then settle it. Repeatable: the provider dedupes by
    out_refund_no and a settled refund is left alone."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund.status
    result = provider_get(refund.payment.provider).refund(payment=refund.payment, refund=refund)
    if result.succeeded is None:
        return RefundStatus.PENDING
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status != RefundStatus.PENDING:
            return refund.status
        refund.status = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
        refund.provider_refund_id, refund.finished_at = result.provider_refund_id, timezone.now()
        refund.save(update_fields=["status", "provider_refund_id", "finished_at"])
        if not result.succeeded:
            Payment.objects.filter(pk=refund.payment_id).update(refunded_amount=F("refunded_amount") - refund.amount)
        if refund.after_sale_id:
            refund_settle(after_sale_id=refund.after_sale_id, succeeded=bool(result.succeeded), note=result.message)
    return refund.status


def _refund_for_aftersale(*, shop: Shop, public_id: str) -> Refund:
    with transaction.atomic():
        sale = refund_reserve(shop_id=shop.pk, public_id=public_id)
        payment = (
            Payment.objects.select_for_update()
            .filter(order_id=sale.order_id, status=PaymentStatus.SUCCEEDED, outcome__in=["paid", "reinstated"])
            .first()
        )
        if payment is None:
            raise Conflict(_("No payment to refund on this order."), code="no_payment")
        refund = _refund_record(payment=payment, amount=sale.amount, reason="after-sale", after_sale_id=sale.pk)
        transaction.on_commit(lambda: _refund_enqueue(refund.pk))
    return refund


def aftersale_decide(*, actor: Actor, shop: Shop, public_id: str, approve: bool, note: str = ""):
    """Staff approve or reject an after-sale request; an approved refund-only request is refunded now."""
    sale = aftersale_review(actor=actor, shop=shop, public_id=public_id, approve=approve, note=note)
    if sale.status == AfterSaleStatus.APPROVED:
        _refund_for_aftersale(shop=shop, public_id=public_id)
        sale.refresh_from_db()
    return sale


def aftersale_return_received(*, actor: Actor, shop: Shop, public_id: str):
    """Returned goods arrived: stock goes back and, for a return-and-refund, the money."""
    sale = aftersale_receive_return(actor=actor, shop=shop, public_id=public_id)
    if sale.status == AfterSaleStatus.RETURNED:
        _refund_for_aftersale(shop=shop, public_id=public_id)
        sale.refresh_from_db()
    return sale


def aftersale_refund_retry(*, actor: Actor, shop: Shop, public_id: str):
    """Try again a refund whose provider call failed."""
    require(actor, "refunds.approve", shop_id=shop.pk)
    _refund_for_aftersale(shop=shop, public_id=public_id)


def payment_record_manual(*, actor: Actor, shop: Shop, order_public_id: str, amount: int, reference: str) -> str:
    """Finance records a bank or personal transfer; it then follows the same path as a notification."""
    require(actor, "finance.manage", shop_id=shop.pk)
    reference = str(reference or "").strip()
    if not 4 <= len(reference) <= 40:
        raise InvalidInput(detail={"reference": "4 to 40 characters"})
    order = Order.objects.filter(shop=shop, public_id=str(order_public_id)).first()
    if order is None:
        raise NotFound(detail={"order": order_public_id})
    if amount != order.total:
        raise InvalidInput(_("The amount must equal the order total."), detail={"total": order.total})
    with transaction.atomic():
        payment = Payment.objects.create(
            shop=shop, order=order, provider="manual", out_trade_no=_trade_no("M"), amount=amount
        )
    note = VerifiedNotification(
        out_trade_no=payment.out_trade_no,
        provider_txn_id=f"manual_{shop.pk}_{reference}",
        amount=amount,
        succeeded=True,
        raw={"reference": reference, "by": actor.pk},
    )
    try:
        return _apply(provider="manual", note=note)
    except NotificationRejected as exc:
        Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED)
        raise Conflict(_("This transfer reference was recorded already."), code="duplicate_reference") from exc


def payments_reconcile(*, older_than_seconds: int = 120, limit: int = 200) -> dict:
    """Ask providers about payments and refunds left unresolved (lost notifications, timeouts)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    day_ago = timezone.now() - timezone.timedelta(days=1)
    checked = settled = 0
    open_payments = Payment.objects.filter(status=PaymentStatus.CREATED, created_at__lt=cutoff, created_at__gt=day_ago)
    for payment in open_payments.exclude(provider__in=["manual", "sandbox"])[:limit]:
        checked += 1
        try:
            note = provider_get(payment.provider).query(payment=payment)
            if note is not None and _apply(provider=payment.provider, note=note) in ("paid", "reinstated"):
                settled += 1
        except (DomainError, OSError) as exc:
            logger.warning("reconcile %s: %s", payment.out_trade_no, exc)
    refunds = list(
        Refund.objects.filter(status=RefundStatus.PENDING, created_at__lt=cutoff).values_list("pk", flat=True)[:limit]
    )
    for refund_id in refunds:
        try:
            refund_execute(refund_id=refund_id)
        except (DomainError, OSError) as exc:
            logger.warning("refund %s: %s", refund_id, exc)
    return {"payments_checked": checked, "payments_settled": settled, "refunds_retried": len(refunds)}


def sandbox_pay(*, payment: Payment) -> None:
    """The shopper pressed 'pay' on the sandbox page: the sandbox bank will notify us from the worker."""
    from .tasks import sandbox_deliver

    if payment.provider != "sandbox" or payment.status != PaymentStatus.CREATED:
        raise Conflict(_("This payment is not open."), code="not_payable")
    sandbox_deliver(payment.out_trade_no, payment.amount, "sb" + public_id(20))
