"""Fission (裂变) figures, all in SQL aggregates with a fixed number of queries.

Definitions, for a period [start, end):
- invites: distinct share codes whose link or poster was opened in the period (people who shared
  and were heard); visits: share visits, and visitors: distinct visitor ids among them.
- sign-ups: bindings made in the period (a new shopper bound to a sharer).
- first orders: referred customers whose first paid order in the shop falls in the period.
- referred revenue: what referred customers paid, net of refunds, for orders placed after their
  binding and paid in the period.
- K-factor: first orders of referred customers ÷ invites (active sharers), per period. That is the
  classic invites-per-sharer × conversion: (visitors ÷ sharers) × (new customers ÷ visitors).
  Above 1, each sharer brings in more than one new buyer.
- share of new customers by referral: referred first orders ÷ all customers whose first paid order
  in this shop falls in the period, in basis points.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connections, router
from django.db.models import Count, Exists, F, Min, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, Trunc
from django.utils import timezone

from siyu.accounts.models import Shopper, StaffMember
from siyu.core.db_router import replica_reads
from siyu.core.money import ratio_bp
from siyu.customers.models import Customer
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .models import ReferralBinding, ShareVisit

MAX_DEPTH = 5
MAX_TREE_NODES = 1000
PERIODS = {"day", "week", "month"}


def _in(field: str, start: datetime | None, end: datetime | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{field}__lt": end})
    return q


BOUND = "shopper__referral_bindings"


def _referred_orders(shop: Shop):
    """Paid orders of referred customers placed after their binding. The binding is joined (one per
    shopper and shop), so its referrer can be grouped on as a plain column."""
    return Order.objects.filter(
        shop=shop,
        paid_at__isnull=False,
        **{f"{BOUND}__shop": shop, f"{BOUND}__bound_at__lte": F("created_at")},
    )


def _referred_first_orders(shop: Shop):
    """Referred customers' first paid orders in the shop (nothing paid before it, ever), paid after
    their binding: one row per referred new customer."""
    earlier = Order.objects.filter(shop=shop, shopper_id=OuterRef("shopper_id"), paid_at__isnull=False).filter(
        Q(paid_at__lt=OuterRef("paid_at")) | Q(paid_at=OuterRef("paid_at"), pk__lt=OuterRef("pk"))
    )
    return (
        Order.objects.filter(
            shop=shop, paid_at__isnull=False, **{f"{BOUND}__shop": shop, f"{BOUND}__bound_at__lte": F("paid_at")}
        )
        .annotate(earlier=Exists(earlier))
        .filter(earlier=False)
    )


def _net():
    return Coalesce(Sum(F("paid_amount") - F("refunded_amount")), 0)


@replica_reads()
def referral_funnel(*, shop: Shop, start: datetime | None = None, end: datetime | None = None) -> dict:
    """invites → visitors → sign-ups → first orders → referred revenue (fen). Four queries.

    Every sign-up came through a share link, so it is a visitor of the period too, even when its
    visit is not among the period's: the link was opened before the period began (the binding
    window is longer than a short period), or the visit could not be linked to the person (no
    profiling consent, a visit on another device). Counting those sign-ups as visitors keeps the
    funnel from widening downwards (more sign-ups than visitors), which reads as broken figures."""
    visits = ShareVisit.objects.filter(Q(shop=shop) & _in("at", start, end)).aggregate(
        invites=Count("code", distinct=True), visits=Count("id"), visitors=Count("visitor_key", distinct=True)
    )
    seen = ShareVisit.objects.filter(Q(shop=shop, shopper_id=OuterRef("referee_id")) & _in("at", start, end))
    bindings = ReferralBinding.objects.filter(Q(shop=shop) & _in("bound_at", start, end)).aggregate(
        signups=Count("id"), unseen=Count("id", filter=~Q(Exists(seen)))
    )
    visits["visitors"] += bindings["unseen"]
    first_orders = _referred_first_orders(shop).filter(_in("paid_at", start, end)).count()
    revenue = _referred_orders(shop).filter(_in("paid_at", start, end)).aggregate(revenue=_net(), orders=Count("id"))
    return {**visits, "signups": bindings["signups"], "first_orders": first_orders, **revenue}


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@replica_reads()
def referral_k_factor(
    *, shop: Shop, start: datetime | None = None, end: datetime | None = None, period: str = "month"
) -> list[dict]:
    """K-factor per day/week/month (see the module note), oldest first. Two queries."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period}")
    tz = timezone.get_current_timezone()
    sharers = (
        ShareVisit.objects.filter(Q(shop=shop) & _in("at", start, end))
        .annotate(p=Trunc("at", period, tzinfo=tz))
        .order_by()
        .values("p")
        .annotate(n=Count("code", distinct=True))
    )
    converted = (
        _referred_first_orders(shop)
        .filter(_in("paid_at", start, end))
        .annotate(p=Trunc("paid_at", period, tzinfo=tz))
        .order_by()
        .values("p")
        .annotate(n=Count("id"))
    )
    rows: dict = {}
    for row in sharers:
        rows.setdefault(row["p"], {"period": row["p"], "invites": 0, "new_customers": 0})["invites"] = row["n"]
    for row in converted:
        rows.setdefault(row["p"], {"period": row["p"], "invites": 0, "new_customers": 0})["new_customers"] = row["n"]
    out = [rows[key] for key in sorted(rows)]
    for row in out:
        row["k"] = _ratio(row["new_customers"], row["invites"])
    return out


@replica_reads()
def referral_new_customer_share(*, shop: Shop, start: datetime | None = None, end: datetime | None = None) -> dict:
    """How many of the period's new customers came by referral. Two queries."""
    new = (
        Order.objects.filter(shop=shop, paid_at__isnull=False)
        .order_by()
        .values("shopper_id")
        .annotate(first=Min("paid_at"))
        .filter(_in("first", start, end))
        .count()
    )
    referred = _referred_first_orders(shop).filter(_in("paid_at", start, end)).count()
    return {"new_customers": new, "referred": referred, "share_bp": ratio_bp(referred, new)}


@dataclass
class TopReferrer:
    kind: str  # shopper | staff
    id: int
    name: str
    referred: int = 0  # people bound in the period
    buyers: int = 0  # referred people who paid in the period
    revenue: int = 0  # fen, net of refunds


def _names(shopper_ids, staff_ids) -> dict:
    names = {("shopper", s.pk): str(s) for s in Shopper.objects.filter(pk__in=shopper_ids).only("nickname", "phone")}
    names.update(
        {("staff", s.pk): s.display_name for s in StaffMember.objects.filter(pk__in=staff_ids).only("display_name")}
    )
    return names


@replica_reads()
def referral_top_referrers(
    *, shop: Shop, start: datetime | None = None, end: datetime | None = None, limit: int = 10
) -> list[TopReferrer]:
    """Sharers ranked by people brought in, then by their revenue. Four queries."""
    bound = (
        ReferralBinding.objects.filter(Q(shop=shop) & _in("bound_at", start, end))
        .order_by()
        .values("referrer_shopper_id", "referrer_staff_id")
        .annotate(n=Count("id"))
    )
    sold = (
        _referred_orders(shop)
        .filter(_in("paid_at", start, end))
        .order_by()
        .values(f"{BOUND}__referrer_shopper_id", f"{BOUND}__referrer_staff_id")
        .annotate(revenue=_net(), buyers=Count("shopper_id", distinct=True))
    )
    found: dict[tuple, TopReferrer] = {}

    def entry(shopper_id, staff_id) -> TopReferrer:
        key = ("shopper", shopper_id) if shopper_id else ("staff", staff_id)
        return found.setdefault(key, TopReferrer(kind=key[0], id=key[1], name=""))

    for row in bound:
        entry(row["referrer_shopper_id"], row["referrer_staff_id"]).referred = row["n"]
    for row in sold:
        item = entry(row[f"{BOUND}__referrer_shopper_id"], row[f"{BOUND}__referrer_staff_id"])
        item.revenue, item.buyers = row["revenue"], row["buyers"]
    ranked = sorted(found.values(), key=lambda t: (-t.referred, -t.revenue, t.kind, t.id))[:limit]
    names = _names([t.id for t in ranked if t.kind == "shopper"], [t.id for t in ranked if t.kind == "staff"])
    for item in ranked:
        item.name = names.get((item.kind, item.id), "")
    return ranked


# --- the referral tree --------------------------------------------------------------------------

_TREE_SQL = """
WITH RECURSIVE tree(referee_id, referrer_id, depth) AS (
    SELECT b.referee_id, b.referrer_shopper_id, 1 FROM {table} b
    WHERE b.shop_id = %s AND {anchor} = %s
  UNION ALL
    SELECT b.referee_id, b.referrer_shopper_id, tree.depth + 1 FROM {table} b
    JOIN tree ON b.referrer_shopper_id = tree.referee_id
    WHERE b.shop_id = %s AND tree.depth < %s
)
SELECT referee_id, referrer_id, depth FROM tree ORDER BY depth, referee_id LIMIT %s
"""


def _tree_rows(shop: Shop, root_column: str, root_id: int, depth: int) -> list[tuple]:
    # Raw SQL bypasses the router: ask it which database a read of bindings should use now.
    connection = connections[router.db_for_read(ReferralBinding)]
    sql = _TREE_SQL.format(table=connection.ops.quote_name(ReferralBinding._meta.db_table), anchor=f"b.{root_column}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [shop.pk, root_id, shop.pk, depth, MAX_TREE_NODES])
        return cursor.fetchall()


@replica_reads()
def referral_tree(
    *, shop: Shop, customer: Customer | None = None, staff: StaffMember | None = None, depth: int = 3
) -> list[dict]:
    """Who a customer (or a staff member) brought in, and whom those brought, `depth` levels deep
    (at most MAX_DEPTH). Nested dicts: {"shopper_id", "name", "depth", "bound_at", "orders",
    "revenue", "children"}. Three queries whatever the tree's size."""
    depth = max(1, min(int(depth), MAX_DEPTH))
    if staff is not None:
        rows = _tree_rows(shop, "referrer_staff_id", staff.pk, depth)
    elif customer is not None and customer.shopper_id:
        rows = _tree_rows(shop, "referrer_shopper_id", customer.shopper_id, depth)
    else:
        return []
    ids = [row[0] for row in rows]
    bindings = {
        b.referee_id: b for b in ReferralBinding.objects.filter(shop=shop, referee_id__in=ids).select_related("referee")
    }
    figures = {
        row["shopper_id"]: row
        for row in Order.objects.filter(shop=shop, shopper_id__in=ids, paid_at__isnull=False)
        .order_by()
        .values("shopper_id")
        .annotate(orders=Count("id"), revenue=_net())
    }
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for referee_id, referrer_id, level in rows:
        if referee_id in nodes or referee_id not in bindings:
            continue  # a loop that slipped past the binding checks is shown once
        stats: Mapping[str, Any] = figures.get(referee_id, {})
        node = {
            "shopper_id": referee_id,
            "name": str(bindings[referee_id].referee),
            "depth": level,
            "bound_at": bindings[referee_id].bound_at,
            "orders": stats.get("orders", 0),
            "revenue": stats.get("revenue", 0),
            "children": [],
        }
        nodes[referee_id] = node
        parent = nodes.get(referrer_id) if level > 1 else None
        (parent["children"] if parent else roots).append(node)
    return roots


@replica_reads()
def fission_overview(*, shop: Shop, start: datetime | None = None, end: datetime | None = None) -> dict:
    """Everything the console's fission page shows for one period."""
    return {
        "funnel": referral_funnel(shop=shop, start=start, end=end),
        "k_factor": referral_k_factor(shop=shop, start=start, end=end),
        "new_customers": referral_new_customer_share(shop=shop, start=start, end=end),
        "top_referrers": referral_top_referrers(shop=shop, start=start, end=end),
    }
