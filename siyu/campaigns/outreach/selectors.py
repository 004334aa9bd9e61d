"""Reads for campaigns: the shop's list, one campaign with its variants, work for the sweep."""

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from siyu.core.permissions import require
from siyu.shops.models import Shop

from .models import Campaign, CampaignStatus, CampaignVariant
from .sending import LEASE
from .services import VIEW, campaign_of_shop


def campaigns_of(*, actor, shop: Shop, status: str | None = None) -> QuerySet[Campaign]:
    require(actor, VIEW, shop_id=shop.pk)
    rows = Campaign.objects.filter(shop=shop)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-id")


def campaign_get(*, actor, shop: Shop, public_id: str) -> Campaign:
    """One campaign with its coupon and its variants (in letter order): two queries."""
    require(actor, VIEW, shop_id=shop.pk)
    rows = campaigns_with_variants(Campaign.objects.select_related("coupon").filter(shop=shop))
    campaign = rows.filter(public_id=str(public_id)[:16]).first()
    if campaign is None:
        return campaign_of_shop(shop=shop, public_id=public_id)  # raises the 404
    return campaign


def campaigns_with_variants(rows: QuerySet[Campaign]) -> QuerySet[Campaign]:
    return rows.prefetch_related(Prefetch("variants", queryset=CampaignVariant.objects.order_by("index")))


def campaign_pending(campaign: Campaign) -> int:
    """Messages still to send (or to retry)."""
    return max(campaign.prepared - campaign.control - campaign.sent - campaign.failed - campaign.refused, 0)


def campaigns_to_resume(now: datetime | None = None) -> tuple[list[int], list[int]]:
    """(campaigns to prepare, campaigns to send): due scheduled ones and stalled preparing ones;
    sending ones without a live lease."""
    now = now or timezone.now()
    stale = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - LEASE)
    prepare = Campaign.objects.filter(
        Q(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now) | (Q(status=CampaignStatus.PREPARING) & stale)
    ).values_list("pk", flat=True)
    # A run with nothing due answers "waiting" after one query; one whose work is over finishes it.
    send = Campaign.objects.filter(stale, status=CampaignStatus.SENDING).values_list("pk", flat=True)
    return list(prepare[:100]), list(send[:100])
