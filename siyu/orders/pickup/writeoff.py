"""Write-off (核销): staff, or the point's keeper, verify a pickup code once, which hands the
order over and marks it received through the order's own lifecycle.

Once only, under any number of parallel attempts: the order row is locked first (order_lock,
rank ORDER), then the pickup row is claimed with one conditional UPDATE (`verified_at IS NULL`);
the loser of a race gets 409 `already_picked_up` saying when and by whom. Wrong codes are counted
per verifier (staff member or keeper) in the cache, and past the budget every attempt is refused
with 429 before the code is looked at, so nobody can walk the code space.

Locks: the order (rank ORDER); the pickup row and order lines only under it.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core.errors import Conflict, NotFound, RateLimited
from siyu.core.permissions import Actor, require
from siyu.orders.lifecycle import actor_label, order_confirm_receipt, order_lock, timeline_add, transition
from siyu.orders.models import OrderStatus
from siyu.orders.states import OPEN as AFTERSALE_OPEN
from siyu.shops.models import Shop

from .codes import CODE_DIGITS
from .models import PickupOrder
from .points import MANAGE

S = OrderStatus
NOTE = "picked up at the pickup point"
HANDOVER = (S.PAID, S.PARTIALLY_SHIPPED, S.SHIPPED, S.COMPLETED)


def _limits() -> tuple[int, int]:
    return (
        settings.SIYU_PICKUP_WRONG_CODES,
        settings.SIYU_PICKUP_WRONG_WINDOW_SECONDS,
    )


def _guess_key(shop: Shop, who: str) -> str:
    return f"siyu:pickup:wrong:{shop.pk}:{who}"


def _throttle(shop: Shop, who: str) -> None:
    limit, window = _limits()
    if int(cache.get(_guess_key(shop, who)) or 0) >= limit:
        raise RateLimited(
            _("Too many wrong pickup codes. Please wait a few minutes."),
            code="pickup_rate_limited",
            detail={"retry_after": window},
        )


def _wrong(shop: Shop, who: str) -> NotFound:
    _limit, window = _limits()
    key = _guess_key(shop, who)
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
    return NotFound(_("No pickup order has this code."), code="pickup_code_unknown")


def _clean(code) -> str:
    return "".join(ch for ch in str(code or "") if not ch.isspace())[:40]


def pickup_verify(
    *, shop: Shop, code: str, actor: Actor | None = None, keeper: Shopper | None = None, via: str = "console"
) -> PickupOrder:
    """Verify a pickup code as staff (`actor`, orders.manage) or as a keeper (a shopper keeping a
    point: only that point's codes). Unknown codes, and another point's codes for a keeper, are 404
    `pickup_code_unknown` alike and count as wrong guesses."""
    by: Actor | Shopper
    if keeper is None:
        require(actor, MANAGE, shop_id=shop.pk)
        assert actor is not None  # require() refused None
        who, by = f"staff:{actor.pk}", actor
    else:
        who, by, via = f"keeper:{keeper.pk}", keeper, "keeper"
    _throttle(shop, who)
    code = _clean(code)
    found = None
    if len(code) == CODE_DIGITS and code.isascii() and code.isdigit():
        found = PickupOrder.objects.filter(shop=shop, code=code).select_related("point").first()
    if found is None or (keeper is not None and found.point.keeper_id != keeper.pk):
        raise _wrong(shop, who)
    with transaction.atomic():
        order = order_lock(order_id=found.order_id)
        entry = PickupOrder.objects.get(pk=found.pk)
        if entry.verified_at is not None:
            raise _already(entry)
        _check_order(order)
        user, label = actor_label(by)
        now = timezone.now()
        fields = {"verified_at": now, "verified_by": user, "verified_by_label": label[:60], "verified_via": via}
        if not PickupOrder.objects.filter(pk=entry.pk, verified_at__isnull=True).update(**fields):
            raise _already(PickupOrder.objects.get(pk=entry.pk))  # not reached while the order lock holds
        # The timeline names the point, not the keeper (a shopper, whom the buyer's own timeline
        # would call "You"); who it was stays on the pickup row.
        _hand_over(order=order, actor=by if keeper is None else "pickup point")
    for key, value in fields.items():
        setattr(found, key, value)
    return found


def _already(entry: PickupOrder) -> Conflict:
    return Conflict(
        _("This pickup code was already used."),
        code="already_picked_up",
        detail={
            "verified_at": entry.verified_at.isoformat() if entry.verified_at else None,
            "by": entry.verified_by_label,
        },
    )


def _check_order(order) -> None:
    if order.status not in HANDOVER:
        raise Conflict(
            _("This order cannot be picked up: it is not paid, or it was cancelled or refunded."),
            code="pickup_not_ready",
            detail={"status": order.status},
        )
    if order.fulfilment_hold:
        raise Conflict(
            _("This order is on hold and cannot be handed over yet."),
            code="fulfilment_hold",
            detail={"hold": order.fulfilment_hold},
        )
    if order.after_sales.filter(status__in=AFTERSALE_OPEN).exists():
        raise Conflict(
            _("This order has an open after-sale request; settle it first."), code="aftersale_open", detail={}
        )


def _hand_over(*, order, actor) -> None:
    """Paid (not yet delivered to the point): the goods leave now, so the lines count as shipped
    and the order moves to shipped. Then receipt, as a shopper's confirmation would record it. An
    order the worker already auto-confirmed only gets the timeline row."""
    if order.status == S.COMPLETED:
        timeline_add(order=order, actor=actor, action="receive", note=NOTE)
        return
    if order.status in (S.PAID, S.PARTIALLY_SHIPPED):
        for line in order.lines.select_for_update().order_by("pk"):
            left = line.quantity - line.refunded_quantity
            if line.shipped_quantity < left:
                line.shipped_quantity = left
                line.save(update_fields=["shipped_quantity"])
        transition(
            order=order, to=S.SHIPPED, actor=actor, action="ship", note=NOTE, fields={"shipped_at": timezone.now()}
        )
    order_confirm_receipt(order_id=order.pk, actor=actor, note=NOTE)
