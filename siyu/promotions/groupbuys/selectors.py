"""Reads for the console, the API and the storefront. Each is scoped by shop and costs a fixed
number of queries whatever the number of rows."""

from typing import NamedTuple

from django.db.models import Count, IntegerField, Min, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.core.errors import NotFound
from siyu.shops.models import Shop

from .campaigns import shop_runs_group_buys
from .models import Group, GroupBuy, GroupMember, GroupStatus, MemberStatus

G, M = GroupStatus, MemberStatus
SHOWN = (M.JOINED,)  # members a group page shows (virtual ones are joined too, and marked)


def campaigns_for_staff(*, shop: Shop, status: str = "") -> QuerySet[GroupBuy]:
    """Campaigns, newest first. status: "" (all), running, scheduled, ended (or stopped)."""
    now = timezone.now()
    found = GroupBuy.objects.filter(shop=shop).select_related("product").annotate(lowest=Min("prices__group_price"))
    if status == "running":
        found = found.filter(is_active=True, starts_at__lte=now, ends_at__gt=now)
    elif status == "scheduled":
        found = found.filter(is_active=True, starts_at__gt=now)
    elif status == "ended":
        found = found.exclude(is_active=True, ends_at__gt=now)
    return found.order_by("-id")


def _groups_counted(status: str) -> Coalesce:
    counted = (
        Group.objects.filter(campaign_id=OuterRef("pk"), status=status)
        .order_by()
        .values("campaign_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def campaigns_with_group_counts(*, shop: Shop, status: str = "") -> QuerySet[GroupBuy]:
    """`campaigns_for_staff` with `groups_open`, `groups_formed` and `groups_failed` counted in the
    same query (subqueries, so the counts do not multiply with the prices' join)."""
    return campaigns_for_staff(shop=shop, status=status).annotate(
        groups_open=_groups_counted(G.OPEN),
        groups_formed=_groups_counted(G.FORMED),
        groups_failed=_groups_counted(G.FAILED),
    )


def campaign_status(campaign: GroupBuy) -> str:
    now = timezone.now()
    if not campaign.is_active or campaign.ends_at <= now:
        return "ended"
    return "running" if campaign.starts_at <= now else "scheduled"


def campaign_for_staff(*, shop: Shop, public_id: str) -> GroupBuy:
    campaign = (
        GroupBuy.objects.filter(shop=shop, public_id=str(public_id)[:20])
        .select_related("product")
        .prefetch_related("prices__sku")
        .first()
    )
    if campaign is None:
        raise NotFound(detail={"group_buy": str(public_id)[:20]})
    return campaign


def groups_for_staff(*, shop: Shop, campaign: GroupBuy, status: str = "") -> QuerySet[Group]:
    found = Group.objects.filter(shop=shop, campaign=campaign).select_related("leader")
    if status in G.values:
        found = found.filter(status=status)
    return found.order_by("-id")


def groups_with_members_for_staff(*, shop: Shop, campaign: GroupBuy, status: str = "") -> QuerySet[Group]:
    """Groups with every member that paid or is still to pay (cancelled orders left out) as
    `staff_members`: leader first, virtual members last, each with its order (two queries a page)."""
    members = (
        GroupMember.objects.exclude(status=M.CANCELLED)
        .select_related("order")
        .order_by("-is_leader", "is_virtual", "id")
    )
    return groups_for_staff(shop=shop, campaign=campaign, status=status).prefetch_related(
        Prefetch("members", queryset=members, to_attr="staff_members")
    )


def _members() -> Prefetch:
    return Prefetch(
        "members",
        queryset=GroupMember.objects.filter(status__in=SHOWN).order_by("-is_leader", "is_virtual", "id"),
        to_attr="shown_members",
    )


class ProductGroupBuy(NamedTuple):
    campaign: GroupBuy
    lowest_price: int  # fen: the lowest group price of its SKUs
    joinable: list[Group]  # open groups to join, closest deadline first, with `shown_members`


def running_campaign_for_product(*, shop: Shop, product, open_groups: int = 5) -> ProductGroupBuy | None:
    """The product's running campaign with its prices and up to `open_groups` groups to join —
    no query at all in a shop that never ran a group buy (three when it has)."""
    if not shop_runs_group_buys(shop_id=shop.pk):
        return None
    now = timezone.now()
    campaign = (
        GroupBuy.objects.filter(shop=shop, product=product, is_active=True, starts_at__lte=now, ends_at__gt=now)
        .prefetch_related("prices")
        .order_by("-id")
        .first()
    )
    if campaign is None:
        return None
    joinable = list(
        Group.objects.filter(campaign=campaign, status=G.OPEN, deadline__gt=now)
        .select_related("campaign")
        .prefetch_related(_members())
        .order_by("deadline")[:open_groups]
    )
    return ProductGroupBuy(campaign, min(p.group_price for p in campaign.prices.all()), joinable)


def group_for_page(*, shop: Shop, public_id: str) -> Group:
    """A group with its campaign, product, prices and shown members (three queries)."""
    group = (
        Group.objects.filter(shop=shop, public_id=str(public_id)[:20])
        .select_related("campaign", "campaign__product", "leader")
        .prefetch_related("campaign__prices__sku", _members())
        .first()
    )
    if group is None:
        raise NotFound(detail={"group": str(public_id)[:20]})
    return group


def my_group_members(*, shop: Shop, shopper) -> QuerySet[GroupMember]:
    """The shopper's group-buy orders, newest first, with group, campaign and product."""
    return (
        GroupMember.objects.filter(shop=shop, shopper=shopper)
        .select_related("group", "campaign", "campaign__product", "order")
        .order_by("-id")
    )
