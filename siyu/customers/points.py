"""The points ledger: append-only entries per customer; a balance is their sum and never negative.

Reasons: earn (a completed order), redeem (paid part of an order), reverse (earned points taken
back after a refund), restore (redeemed points given back: order cancelled or fully refunded),
expire, adjust.

Every write locks the customer row first (after the order row, when the caller holds one), checks
the balance and what was already written for the order under that lock, and only then appends; so
an event delivered twice, or two checkouts at once, can neither earn twice nor overdraw.

Expiry is first-in first-out by expiry date: spending of any kind (redeem, reverse, expire) counts
against the grants that expire soonest. So for a customer, what must expire by `now` is
(grants expiring by now) − (everything spent so far), when positive. It never exceeds the balance.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict
from siyu.core.settings_rows import settings_row_get
from siyu.orders.models import Order, OrderStatus
from siyu.shops.models import Shop

from .models import CrmSettings, Customer, CustomerEvent, PointsEntry
from .stats import customer_for_shopper

EARN, REDEEM, REVERSE, RESTORE, EXPIRE, ADJUST = "earn", "redeem", "reverse", "restore", "expire", "adjust"
EXPIRE_CHUNK = 500


def points_balance(*, customer: Customer) -> int:
    return PointsEntry.objects.filter(customer_id=customer.pk).aggregate(total=Coalesce(Sum("delta"), 0))["total"]


def points_history(*, customer: Customer, limit: int | None = 50):
    """Newest first; limit=None gives the lazy queryset (for paginated lists)."""
    qs = PointsEntry.objects.filter(customer_id=customer.pk).order_by("-id")
    return qs if limit is None else list(qs[:limit])


def _rules(shop_id: int) -> CrmSettings:
    return settings_row_get(CrmSettings, shop_id=shop_id)


def _customer_of(order: Order) -> Customer:
    """The order's customer, locked (select_for_update). Caller holds a transaction."""
    customer = customer_for_shopper(shop=order.shop, shopper=order.shopper)
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _order(order: Order | int) -> Order:
    order_id = order if isinstance(order, int) else order.pk
    return Order.objects.select_related("shop", "shopper").get(pk=order_id)


def _by_reason(customer: Customer, order_id: int) -> dict[str, int]:
    rows = (
        PointsEntry.objects.filter(customer_id=customer.pk, order_id=order_id)
        .order_by()
        .values("reason")
        .annotate(total=Sum("delta"))
    )
    return {row["reason"]: row["total"] for row in rows}


def _add(customer: Customer, *, delta: int, reason: str, order_id=None, expires_at=None) -> PointsEntry:
    return PointsEntry.objects.create(
        shop_id=customer.shop_id,
        customer=customer,
        delta=delta,
        reason=reason,
        order_id=order_id,
        expires_at=expires_at,
    )


def points_earn(*, order: Order | int, now: datetime | None = None) -> PointsEntry | None:
    """Grant points for a completed order: points_per_yuan × yuan paid net of refunds, rounded down,
    valid for points_valid_days. Once per order. Locks: the customer row."""
    order = _order(order)
    if order.status != OrderStatus.COMPLETED:
        return None
    now = now or timezone.now()
    rules = _rules(order.shop_id)
    net = order.paid_amount - order.refunded_amount
    points = rules.points_per_yuan * net // 100
    if points <= 0:
        return None
    with transaction.atomic():
        customer = _customer_of(order)
        if EARN in _by_reason(customer, order.pk):
            return None
        entry = _add(
            customer,
            delta=points,
            reason=EARN,
            order_id=order.pk,
            expires_at=now + timedelta(days=rules.points_valid_days),
        )
        # What the points were earned on, so a later partial refund takes back its share.
        CustomerEvent.objects.create(
            shop_id=order.shop_id,
            customer=customer,
            kind="points_earned",
            actor_label="system",
            data={"order": order.pk, "points": points, "net": net},
        )
    return entry


def points_redeem(*, order: Order | int) -> PointsEntry | None:
    """Take the points an order was priced with (order.points_used). Runs inside the checkout's
    transaction: refusing (Conflict) rolls the order back. Locks: the customer row."""
    order = _order(order)
    if order.points_used <= 0:
        return None
    with transaction.atomic():
        customer = _customer_of(order)
        if REDEEM in _by_reason(customer, order.pk):
            return None
        balance = points_balance(customer=customer)
        if balance < order.points_used:
            raise Conflict(
                _("You do not have that many points."),
                code="insufficient_points",
                detail={"balance": balance, "points": order.points_used},
            )
        return _add(customer, delta=-order.points_used, reason=REDEEM, order_id=order.pk)


def _restore(customer: Customer, order: Order, by_reason: dict, now: datetime) -> int:
    redeemed = -by_reason.get(REDEEM, 0)
    if redeemed <= 0 or RESTORE in by_reason:
        return 0
    valid = timedelta(days=_rules(order.shop_id).points_valid_days)
    _add(customer, delta=redeemed, reason=RESTORE, order_id=order.pk, expires_at=now + valid)
    return redeemed


def points_restore(*, order: Order | int, now: datetime | None = None) -> int:
    """Give back the points an order redeemed (it was cancelled). Once per order. Locks: customer."""
    order = _order(order)
    if order.points_used <= 0:
        return 0
    with transaction.atomic():
        customer = _customer_of(order)
        return _restore(customer, order, _by_reason(customer, order.pk), now or timezone.now())


def _written_off(customer: Customer, order_id: int) -> int:
    rows = CustomerEvent.objects.filter(customer=customer, kind="points_refund", data__order=order_id)
    return sum(int(row.data.get("shortfall", 0)) for row in rows.only("data"))


def _earned_on(customer: Customer, order_id: int) -> int | None:
    event = CustomerEvent.objects.filter(customer=customer, kind="points_earned", data__order=order_id).first()
    return int(event.data["net"]) if event else None


def points_reverse(*, order: Order | int, after_sale_id: int | None = None, now: datetime | None = None) -> dict:
    """After a refund: take back the earned points in proportion to what is now refunded and, once
    the order is fully refunded, give back the points it redeemed.

    Idempotent by construction: the points kept are always earned × (paid − refunded) / net-earned-on,
    so a second delivery finds nothing left to do. What the balance cannot cover (points already
    spent) is written off, never overdrawn, and recorded on the customer's timeline.
    Runs inside the refund's transaction. Locks: the order row (caller), then the customer row.
    """
    order = _order(order)
    now = now or timezone.now()
    with transaction.atomic():
        customer = _customer_of(order)
        by_reason = _by_reason(customer, order.pk)
        earned = by_reason.get(EARN, 0)
        taken, shortfall = 0, 0
        if earned > 0:
            net_then = _earned_on(customer, order.pk) or max(order.paid_amount, 1)
            net_now = max(order.paid_amount - order.refunded_amount, 0)
            keep = earned * min(net_now, net_then) // net_then
            due = earned + by_reason.get(REVERSE, 0) - _written_off(customer, order.pk) - keep
            if due > 0:
                taken = min(due, points_balance(customer=customer))
                shortfall = due - taken
                if taken:
                    _add(customer, delta=-taken, reason=REVERSE, order_id=order.pk)
        restored = 0
        if order.paid_amount and order.refunded_amount >= order.paid_amount:
            restored = _restore(customer, order, by_reason, now)
        result = {
            "order": order.pk,
            "after_sale": after_sale_id,
            "reversed": taken,
            "shortfall": shortfall,
            "restored": restored,
        }
        if taken or shortfall or restored:
            CustomerEvent.objects.create(
                shop_id=order.shop_id, customer=customer, kind="points_refund", actor_label="system", data=result
            )
    return result


def _due_by_customer(qs, now: datetime):
    return (
        qs.order_by()
        .values("customer_id")
        .annotate(
            expiring=Coalesce(Sum("delta", filter=Q(delta__gt=0, expires_at__lte=now)), 0),
            spent=Coalesce(Sum("delta", filter=Q(delta__lt=0)), 0),
        )
        .annotate(due=F("expiring") + F("spent"))
        .filter(due__gt=0)
    )


def points_expire(*, shop: Shop, now: datetime | None = None) -> int:
    """Write an "expire" entry for every customer whose grants have run out unused (see the module
    note). Safe to run any number of times. Returns the number of entries written.
    Candidates are found in one grouped query; each chunk is locked (customer rows, in id order)
    and re-checked before writing, so a redemption at the same moment cannot be double-counted."""
    now = now or timezone.now()
    candidates = list(
        _due_by_customer(PointsEntry.objects.filter(shop=shop, customer__shop=shop), now)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )
    written = 0
    for start in range(0, len(candidates), EXPIRE_CHUNK):
        chunk = candidates[start : start + EXPIRE_CHUNK]
        with transaction.atomic():
            list(Customer.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))
            due = _due_by_customer(PointsEntry.objects.filter(customer_id__in=chunk), now)
            entries = [
                PointsEntry(shop=shop, customer_id=row["customer_id"], delta=-row["due"], reason=EXPIRE) for row in due
            ]
            PointsEntry.objects.bulk_create(entries)
            written += len(entries)
    return written


def points_expire_all(*, now: datetime | None = None) -> int:
    """points_expire for every shop that has points due to run out: the nightly job's entry point."""
    now = now or timezone.now()
    shop_ids = PointsEntry.objects.filter(delta__gt=0, expires_at__lte=now).order_by().values_list("shop_id", flat=True)
    return sum(points_expire(shop=shop, now=now) for shop in Shop.objects.filter(pk__in=shop_ids).order_by("pk"))
