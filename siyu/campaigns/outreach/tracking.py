"""Tracked short links: /go/<code>/ records a click and sends the shopper on to the campaign's target.

A code is random per recipient (72 bits, prepare.link_code), so one recipient's link neither names
the campaign nor leads to another's. The storefront puts the attribution (campaign, recipient)
into the session, under SESSION_KEY, so later visits and orders in that session can be linked.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import NotFound
from siyu.shops.models import Shop

from .models import CampaignClick, CampaignRecipient, CampaignTarget

SESSION_KEY = "siyu_campaign"
CODE_MAX = 16


@dataclass(frozen=True)
class Followed:
    path: str  # where to send the shopper (a storefront path)
    attribution: dict  # what the session keeps: {"campaign", "recipient", "at"}


def target_path(*, target: str, target_ref: str, coupon_public_id: str | None) -> str:
    if target == CampaignTarget.PRODUCT and target_ref:
        return reverse("storefront:product", args=[target_ref])
    if target == CampaignTarget.COUPON and coupon_public_id:
        return reverse("storefront:coupon", args=[coupon_public_id])
    return reverse("storefront:home")


def link_follow(*, shop: Shop, code: str) -> Followed:
    """Record one click of a tracked link of `shop` and say where it leads (404 for an unknown code)."""
    code = str(code or "")[:CODE_MAX]
    recipient = (
        CampaignRecipient.objects.filter(code=code, campaign__shop=shop)
        .select_related("campaign", "campaign__coupon")
        .first()
    )
    if recipient is None:
        raise NotFound(_("This link does not exist."), detail={"code": code})
    now = timezone.now()
    with transaction.atomic():
        CampaignRecipient.objects.filter(pk=recipient.pk).update(
            clicks=F("clicks") + 1, first_clicked_at=Coalesce(F("first_clicked_at"), now)
        )
        CampaignClick.objects.create(
            campaign_id=recipient.campaign_id, recipient_id=recipient.pk, variant_id=recipient.variant_id
        )
    campaign = recipient.campaign
    return Followed(
        path=target_path(
            target=campaign.target,
            target_ref=campaign.target_ref,
            coupon_public_id=campaign.coupon.public_id if campaign.coupon else None,
        ),
        attribution={"campaign": campaign.public_id, "recipient": recipient.pk, "at": now.isoformat()},
    )
