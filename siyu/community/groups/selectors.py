"""Reads of community groups: the staff list and leaderboard, a group's figures and detail, the
groups a shopper leads or belongs to. Every read is a fixed number of queries, whatever the number
of groups, members or orders.

The figures, for a group:
- members: customers in it now; new members: joined in the last 7 days (the leaderboard) or per
  week (the detail page, the last 8 weeks, weeks starting on Monday in the shop's time zone);
- orders and revenue: orders attributed to the group (attribution.py) that are paid and not
  cancelled or wholly refunded; revenue is what was paid less what was refunded, in fen;
- repeat rate (复购率): of the group's buyers, the share with two or more such orders, in basis
  points (integer; 10000 = everyone bought twice).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.utils import timezone

from siyu.accounts.models import Shopper
from siyu.core.errors import NotFound
from siyu.core.permissions import require
from siyu.orders.models import OrderLine, OrderStatus
from siyu.shops.models import Shop

from .models import Group, GroupMember, GroupOrder, GroupTouch, GroupVisit

VIEW, MANAGE = "customers.view", "customers.manage"
COUNTED = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
WEEKS = 8
SORTS = ("revenue", "orders", "members", "new_members", "repeat_rate")


@dataclass
class Figures:
    members: int = 0
    new_members: int = 0
    orders: int = 0
    revenue: int = 0  # fen
    buyers: int = 0
    repeat_buyers: int = 0

    @property
    def repeat_rate_bp(self) -> int:
        return self.repeat_buyers * 10000 // self.buyers if self.buyers else 0


@dataclass
class Ranked:
    group: Group
    figures: Figures


@dataclass
class Detail:
    figures: Figures
    visits: int
    signups: int
    weekly: list[tuple[datetime, int]] = field(default_factory=list)  # (week start, new members)
    products: list[dict] = field(default_factory=list)  # best products by revenue


def groups_for_staff(*, actor, shop: Shop, q: str = "", kind: str = "", active: bool | None = None) -> QuerySet[Group]:
    require(actor, VIEW, shop_id=shop.pk)
    qs = Group.objects.filter(shop=shop).select_related("leader_customer", "leader_staff")
    q = str(q or "").strip()[:40]
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code=q.lower()) | Q(tags__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by("-id")


def group_for_staff(*, actor, shop: Shop, public_id: str) -> Group:
    require(actor, VIEW, shop_id=shop.pk)
    group = (
        Group.objects.filter(shop=shop, public_id=str(public_id or "")[:16])
        .select_related("leader_customer", "leader_staff", "leader_promoter__shopper")
        .first()
    )
    if group is None:
        raise NotFound(detail={"group": str(public_id)[:16]})
    return group


def group_figures(*, group_ids: list[int], now: datetime | None = None) -> dict[int, Figures]:
    """Figures of many groups: two queries, whatever their size."""
    now = now or timezone.now()
    figures = {pk: Figures() for pk in group_ids}
    if not group_ids:
        return figures
    members = (
        GroupMember.objects.filter(group_id__in=group_ids)
        .values("group_id")
        .annotate(n=Count("id"), new=Count("id", filter=Q(joined_at__gte=now - timedelta(days=7))))
        .order_by()
    )
    for row in members:
        figures[row["group_id"]].members, figures[row["group_id"]].new_members = row["n"], row["new"]
    buyers = (
        GroupOrder.objects.filter(group_id__in=group_ids, order__status__in=COUNTED)
        .values("group_id", "shopper_id")
        .annotate(n=Count("id"), money=Sum(F("order__paid_amount") - F("order__refunded_amount")))
        .order_by()
    )
    for bought in buyers:
        item = figures[bought["group_id"]]
        item.orders += bought["n"]
        item.revenue += int(bought["money"] or 0)
        item.buyers += 1
        item.repeat_buyers += 1 if bought["n"] >= 2 else 0
    return figures


def group_leaderboard(*, actor, shop: Shop, sort: str = "revenue", now=None, **filters) -> list[Ranked]:
    """Every group matching the filters with its figures, best first by `sort`: three queries."""
    groups = list(groups_for_staff(actor=actor, shop=shop, **filters))
    figures = group_figures(group_ids=[g.pk for g in groups], now=now)
    key = sort if sort in SORTS else "revenue"
    attr = "repeat_rate_bp" if key == "repeat_rate" else key
    ranked = [Ranked(g, figures[g.pk]) for g in groups]
    ranked.sort(key=lambda r: (getattr(r.figures, attr), r.figures.revenue, r.group.pk), reverse=True)
    return ranked


def _week_start(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def group_weekly_members(*, group: Group, now: datetime | None = None) -> list[tuple[datetime, int]]:
    """New members per week, the last WEEKS weeks, oldest first (one query)."""
    first = _week_start(now or timezone.now()) - timedelta(weeks=WEEKS - 1)
    counts: dict[datetime, int] = defaultdict(int)
    for joined in GroupMember.objects.filter(group=group, joined_at__gte=first).values_list("joined_at", flat=True):
        counts[_week_start(joined)] += 1
    weeks = [timezone.localtime(first) + timedelta(weeks=i) for i in range(WEEKS)]
    return [(week, counts.get(week, 0)) for week in weeks]


def group_best_products(*, group: Group, limit: int = 5) -> list[dict]:
    """The group's best products by revenue (paid less refunded), with quantities (one query)."""
    rows = (
        OrderLine.objects.filter(order__group_order__group=group, order__status__in=COUNTED)
        .values("product_id")
        .annotate(
            name=Max("product_name"),
            quantity=Sum("quantity") - Sum("refunded_quantity"),
            revenue=Sum("line_total") - Sum("refunded_amount"),
        )
        .order_by("-revenue", "product_id")[:limit]
    )
    return [dict(row) for row in rows]


def group_detail(*, actor, shop: Shop, group: Group, now=None) -> Detail:
    """The detail page's figures: six queries."""
    require(actor, VIEW, shop_id=shop.pk)
    return Detail(
        figures=group_figures(group_ids=[group.pk], now=now)[group.pk],
        visits=GroupVisit.objects.filter(group=group).count(),
        signups=GroupTouch.objects.filter(signup_group=group).count(),
        weekly=group_weekly_members(group=group, now=now),
        products=group_best_products(group=group),
    )


def group_members(*, actor, shop: Shop, group: Group) -> QuerySet[GroupMember]:
    require(actor, VIEW, shop_id=shop.pk)
    return GroupMember.objects.filter(group=group).select_related("customer").order_by("-joined_at", "-id")


def groups_led_by(*, shop: Shop, shopper: Shopper) -> list[Group]:
    """Active groups whose customer leader is this shopper (one query)."""
    return list(
        Group.objects.filter(shop=shop, is_active=True, leader_customer__phone_hash=shopper.phone_hash).order_by("id")
    )


def groups_joined_by(*, shop: Shop, shopper: Shopper) -> list[Group]:
    """Active groups the shopper is a member of (one query)."""
    return list(
        Group.objects.filter(
            shop=shop, is_active=True, members__customer__phone_hash=shopper.phone_hash, members__customer__shop=shop
        ).order_by("id")
    )


def group_member_count(*, group: Group) -> int:
    return GroupMember.objects.filter(group=group).count()


def is_member(*, group: Group, shopper: Shopper) -> bool:
    return GroupMember.objects.filter(
        group=group, customer__shop_id=group.shop_id, customer__phone_hash=shopper.phone_hash
    ).exists()
