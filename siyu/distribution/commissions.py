"""Commission: accrued (frozen) when a referred order is paid, reduced with refunds, settled after
receipt + the longest window in which a refund can still be asked for + the freeze period.

Only a retail sale earns: the promoter whose share code the order carries, if approved and not the
buyer, on what the buyer actually paid for each line (postage excluded). The promoter's parent earns
a second-tier share only when the shop runs two tiers. Nothing is ever earned for recruiting.

Locks, always in this order: the order row, then commission rows (pk order), then promoter ledger
accounts (pk order, inside ledger.post), then (to raise a flag) the promoter row.
"""

from datetime import datetime

from django.db import IntegrityError, transaction

from siyu.core.money import apply_rate
from siyu.orders.lifecycle import order_lock
from siyu.orders.models import Order, OrderLine, OrderStatus
from siyu.orders.windows import refund_window_end

from . import ledger
from .flags import flag_raise
from .models import Commission, CommissionRule, DistributionSettings, Promoter
from .promoters import settings_for
from .states import COMMISSION

C = Commission.Status


def line_paid_amount(*, order: Order, line: OrderLine) -> int:
    """What the buyer paid for a line: its total less its share of the order's discounts, the
    share in proportion to the line's total; rounded down, as refunds are, so the lines of an
    order never add up to more than was paid."""
    if not order.subtotal:
        return 0
    return line.line_total * (order.subtotal - order.discount) // order.subtotal


def settle_after_for(*, received_at: datetime, freeze_days: int) -> datetime:
    """Settlement is due at the start of the day after the last day a refund can be asked for
    (the longest after-sale window, quality claims included: orders.windows) plus the freeze.
    Settling after only the 7-day window would let a quality refund on day 8 to 30 find the money
    already withdrawn."""
    return refund_window_end(received_at=received_at, extra_days=freeze_days)


class RateBook:
    """The shop's rates: a product rule wins over a category rule (the product's own category,
    then its parent), and both over the shop default. Loaded once per order."""

    def __init__(self, shop_settings: DistributionSettings, rules: list[CommissionRule]):
        self.defaults = {1: shop_settings.default_rate_bp, 2: shop_settings.second_tier_rate_bp}
        self.by_product = {(r.product_id, r.tier): r.rate_bp for r in rules if r.product_id}
        self.by_category = {(r.category_id, r.tier): r.rate_bp for r in rules if r.category_id and not r.product_id}

    def rate(self, line: OrderLine, tier: int) -> int:
        if (line.product_id, tier) in self.by_product:
            return self.by_product[(line.product_id, tier)]
        category = line.product.category
        for category_id in (category.pk if category else None, category.parent_id if category else None):
            if category_id and (category_id, tier) in self.by_category:
                return self.by_category[(category_id, tier)]
        return self.defaults[tier]


def _earners(order: Order, shop_settings: DistributionSettings) -> list[tuple[int, Promoter]]:
    """[(tier, promoter)] for a referred order; raises the self-purchase flag when it applies."""
    if not order.ref_code or not shop_settings.enabled:
        return []
    promoter = (
        Promoter.objects.filter(
            shop_id=order.shop_id, shopper__share_code=order.ref_code, status=Promoter.Status.APPROVED
        )
        .select_related("parent")
        .first()
    )
    if promoter is None:
        return []
    if promoter.shopper_id == order.shopper_id:
        flag_raise(promoter=promoter, kind="self_purchase", key=f"order:{order.pk}", data={"order": order.pk})
        return []
    earners = [(1, promoter)]
    parent = promoter.parent
    if shop_settings.tiers == 2 and parent is not None and parent.status == Promoter.Status.APPROVED:
        if parent.shopper_id != order.shopper_id:
            earners.append((2, parent))
    return earners


def commissions_accrue(*, order_id: int) -> list[Commission]:
    """Accrue the commission of a paid order, frozen. Safe to deliver any number of times: one
    commission per (line, tier). Locks: the order row, then (via reversals) promoter accounts."""
    if not Order.objects.filter(pk=order_id).exclude(ref_code="").exists():
        return []  # most orders came through no one's link: one query and done
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if order.paid_at is None or order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED):
            return []
        shop_settings = settings_for(order.shop_id)
        earners = _earners(order, shop_settings)
        if not earners:
            return []
        lines = list(OrderLine.objects.filter(order=order).select_related("product__category").order_by("id"))
        done = set(Commission.objects.filter(order=order).values_list("line_id", "tier"))
        book = RateBook(shop_settings, list(CommissionRule.objects.filter(shop_id=order.shop_id)))
        expense = ledger.shop_account(order.shop_id, ledger.EXPENSE)
        settle_after = (
            settle_after_for(received_at=order.received_at, freeze_days=shop_settings.freeze_days)
            if order.received_at
            else None
        )
        made = []
        for line in lines:
            base = line_paid_amount(order=order, line=line)
            for tier, promoter in earners:
                if (line.pk, tier) in done:
                    continue
                rate = book.rate(line, tier)
                amount = apply_rate(base, rate)
                try:
                    with transaction.atomic():
                        commission = Commission.objects.create(
                            shop_id=order.shop_id,
                            promoter=promoter,
                            order=order,
                            line=line,
                            tier=tier,
                            base_amount=base,
                            rate_bp=rate,
                            amount=amount,
                            settle_after=settle_after,
                        )
                except IntegrityError:
                    continue  # delivered twice at once: the other delivery wrote it
                ledger.post(
                    shop_id=order.shop_id,
                    lines=ledger.transfer(expense, ledger.promoter_account(promoter, ledger.FROZEN), amount),
                    ref_type=ledger.REF_COMMISSION,
                    ref_id=commission.pk,
                    memo=f"accrue order {order.number}",
                )
                made.append(commission)
        if made and order.refunded_amount:
            commissions_reverse(order=order)  # refunded before the event reached us
    return made


def _target_amount(commission: Commission, line: OrderLine, order: Order) -> int:
    """What the commission should be now, given what has been refunded of its line."""
    if order.status == OrderStatus.CLOSED or line.refunded_quantity >= line.quantity:
        return 0
    base = commission.base_amount
    if base <= 0:
        return 0
    kept = max(base - line.refunded_amount, 0)
    return apply_rate(base, commission.rate_bp) * kept // base


def commissions_reverse(*, order: Order) -> int:
    """Bring an order's commissions down to what its refunds leave (all of it on a full refund),
    with ledger reversals. Runs inside the refund's transaction; the caller holds the order row
    lock. Repeatable: the target is computed from the refunded amounts, so a second run does
    nothing. Returns the fen taken back."""
    commissions = list(
        Commission.objects.select_for_update(of=("self",))
        .filter(order_id=order.pk, status__in=[C.FROZEN, C.SETTLED])
        .select_related("line", "promoter")
        .order_by("pk")
    )
    if not commissions:
        return 0
    taken = 0
    expense = ledger.shop_account(order.shop_id, ledger.EXPENSE)
    for commission in commissions:
        due = commission.amount - _target_amount(commission, commission.line, order)
        if due <= 0:
            continue
        source_kind = ledger.FROZEN if commission.status == C.FROZEN else ledger.AVAILABLE
        source = ledger.promoter_account(commission.promoter, source_kind)
        if source_kind == ledger.AVAILABLE:
            # Settled money may have been withdrawn already: take back what is there, flag the rest.
            ledger.accounts_lock([source.pk])
            short = max(due - ledger.balance(source), 0)
            if short:
                flag_raise(
                    promoter=commission.promoter,
                    kind="clawback_short",
                    key=f"commission:{commission.pk}",
                    data={"commission": commission.pk, "order": order.pk, "short": short},
                )
            due -= short
        if due <= 0:
            continue
        ledger.post(
            shop_id=order.shop_id,
            lines=ledger.transfer(source, expense, due),
            ref_type=ledger.REF_COMMISSION,
            ref_id=commission.pk,
            memo=f"refund order {order.number}",
        )
        commission.amount -= due
        if commission.amount == 0:
            why = f"order {order.number} refunded"
            COMMISSION.move(commission, to=C.CANCELLED, actor="refund", why=why, fields={"amount": 0})
        else:
            commission.save(update_fields=["amount"])
        taken += due
    return taken


def commissions_reverse_for_refund(*, order_id: int) -> int:
    """The in-transaction reaction to a refund (the refund already holds the order row lock)."""
    with transaction.atomic():
        return commissions_reverse(order=order_lock(order_id=order_id))


def commissions_mark_received(*, order_id: int) -> int:
    """The order was received: its commissions now know when they settle."""
    order = Order.objects.filter(pk=order_id).only("shop_id", "received_at").first()
    if order is None or order.received_at is None:
        return 0
    settle_after = settle_after_for(received_at=order.received_at, freeze_days=settings_for(order.shop_id).freeze_days)
    return Commission.objects.filter(order_id=order_id, status=C.FROZEN, settle_after__isnull=True).update(
        settle_after=settle_after
    )


def commissions_of_order(*, order_id: int) -> list[Commission]:
    return list(Commission.objects.filter(order_id=order_id).order_by("line_id", "tier"))
