"""Reads for bargains, scoped by shop: a bargain with its helpers, a shopper's bargains, and the
console's campaign and bargain lists. Each is a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from siyu.core.errors import NotFound
from siyu.shops.models import Shop

from .models import Bargain, BargainCampaign, BargainHelp


def _with_campaign(qs: QuerySet[Bargain]) -> QuerySet[Bargain]:
    return qs.select_related("campaign", "campaign__sku", "campaign__product", "starter")


def bargain_detail(*, shop: Shop, public_id: str) -> Bargain:
    """A bargain with its campaign, SKU, product, starter and helps (with helpers): two queries."""
    bargain = (
        _with_campaign(Bargain.objects.filter(shop=shop, public_id=str(public_id or "")[:16]))
        .prefetch_related(Prefetch("helps", queryset=BargainHelp.objects.select_related("helper")))
        .first()
    )
    if bargain is None:
        raise NotFound(detail={"bargain": "not found"})
    return bargain


def bargains_of_shopper(*, shop: Shop, shopper, limit: int = 50) -> list[Bargain]:
    return list(_with_campaign(Bargain.objects.filter(shop=shop, starter=shopper)).order_by("-id")[:limit])


def campaigns_for_staff(*, shop: Shop) -> QuerySet[BargainCampaign]:
    """Campaigns, newest first, with their bargains counted (started and reached the floor)."""
    return (
        BargainCampaign.objects.filter(shop=shop)
        .select_related("sku", "product")
        .annotate(
            started=Count("bargains"),
            reached=Count("bargains", filter=Q(bargains__current_price__lte=F("bargains__floor_price"))),
        )
        .order_by("-id")
    )


def campaign_for_staff(*, shop: Shop, public_id: str) -> BargainCampaign:
    campaign = campaigns_for_staff(shop=shop).filter(public_id=str(public_id or "")[:16]).first()
    if campaign is None:
        raise NotFound(detail={"campaign": "not found"})
    return campaign


def bargains_of_campaign(*, campaign: BargainCampaign) -> QuerySet[Bargain]:
    """A campaign's bargains for staff, with how many of their helps were flagged."""
    return (
        Bargain.objects.filter(shop_id=campaign.shop_id, campaign=campaign)
        .select_related("starter", "order")
        .annotate(flagged=Count("helps", filter=Q(helps__flagged=True)))
        .order_by("-id")
    )


@dataclass(frozen=True)
class Progress:
    cut: int  # fen cut so far
    left: int  # fen still above the floor
    total: int  # fen between the start price and the floor
    percent: int  # 0-100, for the progress bar
    seconds_left: int


def bargain_progress(bargain: Bargain) -> Progress:
    total = bargain.start_price - bargain.floor_price
    cut = bargain.start_price - bargain.current_price
    left = int((bargain.deadline - timezone.now()).total_seconds())
    return Progress(
        cut=cut,
        left=bargain.current_price - bargain.floor_price,
        total=total,
        percent=100 * cut // total if total else 100,
        seconds_left=max(0, left),
    )
