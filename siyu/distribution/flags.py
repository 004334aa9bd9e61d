"""Trust flags on promoters, for staff to look at: they never move money by themselves.

Kinds: self_purchase (bought through their own link: raised at accrual), address_cluster (several
buyer accounts shipping to one phone or address through one promoter's link), device_cluster
(several buyer accounts signing in on one device that came through the link), refund_spike (a high
refund rate over the last 30 days) and clawback_short (a refund after settlement found the money
already withdrawn). One open flag per promoter, kind and key, so every scan can be re-run.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from siyu.core.crypto import lookup_hash
from siyu.core.permissions import require
from siyu.orders.models import Order
from siyu.referrals.models import ShareVisit
from siyu.shops.models import Shop

from .models import Promoter, PromoterFlag

WINDOW_DAYS = 30
CLUSTER_MIN_ACCOUNTS = 3  # distinct buyer accounts behind one address, phone or device
REFUND_SPIKE_MIN_ORDERS = 5
REFUND_SPIKE_RATE_BP = 3000  # 30% of referred orders refunded


def flag_raise(*, promoter: Promoter, kind: str, key: str, data: dict | None = None) -> PromoterFlag | None:
    """Raise a flag unless the same one (kind and key) is still open. Returns the new flag or None.
    Locks: the promoter row, so two scans at once raise it once."""
    with transaction.atomic():
        Promoter.objects.select_for_update().filter(pk=promoter.pk).values_list("pk").first()
        if PromoterFlag.objects.filter(promoter=promoter, kind=kind, data__key=key, resolved_at__isnull=True).exists():
            return None
        return PromoterFlag.objects.create(
            shop_id=promoter.shop_id, promoter=promoter, kind=kind, data={**(data or {}), "key": key}
        )


def flag_resolve(*, actor, flag: PromoterFlag) -> PromoterFlag:
    require(actor, "customers.manage", shop_id=flag.shop_id)
    PromoterFlag.objects.filter(pk=flag.pk, resolved_at__isnull=True).update(resolved_at=timezone.now())
    flag.refresh_from_db()
    return flag


def _referred_orders(shop: Shop, codes: dict[str, Promoter], since: datetime):
    return Order.objects.filter(shop=shop, ref_code__in=list(codes), paid_at__gte=since)


def _address_clusters(shop: Shop, codes: dict[str, Promoter], since: datetime) -> int:
    # Phone and street are encrypted with a random nonce, so equal values are only found after
    # decrypting; the rows are one shop's referred orders of one month.
    accounts: dict[tuple[str, str], set[int]] = defaultdict(set)
    for order in _referred_orders(shop, codes, since).only(
        "ref_code", "shopper_id", "phone", "province", "city", "district", "address_detail"
    ):
        place = f"{order.province}|{order.city}|{order.district}|{order.address_detail}"
        accounts[(order.ref_code, "phone:" + lookup_hash(order.phone or ""))].add(order.shopper_id)
        accounts[(order.ref_code, "address:" + lookup_hash(place))].add(order.shopper_id)
    raised = 0
    for (code, key), shoppers in sorted(accounts.items()):
        if len(shoppers) >= CLUSTER_MIN_ACCOUNTS:
            raised += bool(
                flag_raise(promoter=codes[code], kind="address_cluster", key=key, data={"accounts": len(shoppers)})
            )
    return raised


def _device_clusters(shop: Shop, codes: dict[str, Promoter], since: datetime) -> int:
    rows = (
        ShareVisit.objects.filter(shop=shop, code__in=list(codes), at__gte=since, shopper__isnull=False)
        .order_by()
        .values("code", "visitor_key")
        .annotate(accounts=Count("shopper", distinct=True))
        .filter(accounts__gte=CLUSTER_MIN_ACCOUNTS)
    )
    raised = 0
    for row in rows:
        raised += bool(
            flag_raise(
                promoter=codes[row["code"]],
                kind="device_cluster",
                key="device:" + lookup_hash(row["visitor_key"]),
                data={"accounts": row["accounts"]},
            )
        )
    return raised


def _refund_spikes(shop: Shop, codes: dict[str, Promoter], since: datetime) -> int:
    rows = (
        _referred_orders(shop, codes, since)
        .order_by()
        .values("ref_code")
        .annotate(orders=Count("id"), refunded=Count("id", filter=Q(refunded_amount__gt=0)))
        .filter(orders__gte=REFUND_SPIKE_MIN_ORDERS)
    )
    raised = 0
    for row in rows:
        rate_bp = row["refunded"] * 10_000 // row["orders"]
        if rate_bp >= REFUND_SPIKE_RATE_BP:
            raised += bool(
                flag_raise(
                    promoter=codes[row["ref_code"]],
                    kind="refund_spike",
                    key="refund_spike",
                    data={"orders": row["orders"], "refunded": row["refunded"], "rate_bp": rate_bp},
                )
            )
    return raised


def flags_scan(*, shop: Shop, now: datetime | None = None) -> int:
    """Look at the last 30 days of one shop and raise the flags that apply. Returns how many new."""
    since = (now or timezone.now()) - timedelta(days=WINDOW_DAYS)
    promoters = Promoter.objects.filter(shop=shop, status=Promoter.Status.APPROVED).select_related("shopper")
    codes = {p.shopper.share_code: p for p in promoters}
    if not codes:
        return 0
    return (
        _address_clusters(shop, codes, since)
        + _device_clusters(shop, codes, since)
        + _refund_spikes(shop, codes, since)
    )


def flags_scan_all(*, now: datetime | None = None) -> int:
    shop_ids = Promoter.objects.filter(status=Promoter.Status.APPROVED).order_by().values_list("shop_id", flat=True)
    return sum(flags_scan(shop=shop, now=now) for shop in Shop.objects.filter(pk__in=shop_ids).order_by("pk"))


def flags_open(*, shop: Shop, limit: int = 100) -> list[PromoterFlag]:
    return list(
        PromoterFlag.objects.filter(shop=shop, resolved_at__isnull=True)
        .select_related("promoter__shopper")
        .order_by("-id")[:limit]
    )
