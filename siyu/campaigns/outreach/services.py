"""Campaign services: create and change a draft, start (now or at a time), cancel.

Preparing (audience snapshot, holdout and variants) and sending run in the worker, batch by batch
(siyu/campaigns/outreach/prepare.py and sending.py). Locks: the campaign row only.
"""

import secrets
import string
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Product
from siyu.core.audit import actor_describe, audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import require
from siyu.customers.models import Segment
from siyu.promotions.coupons.models import Coupon, CouponStatus
from siyu.shops.models import Shop

from .events import campaign_finished_record
from .models import Campaign, CampaignStatus, CampaignTarget, CampaignVariant
from .states import CAMPAIGN

MANAGE, VIEW = "promotions.manage", "promotions.view"
CHANNELS = ("log", "sms", "email", "wecom", "wechat_oa")  # siyu.campaigns.channels.api.CHANNELS
MERGE_FIELDS = frozenset({"name", "points", "link"})
MAX_VARIANTS = 4
MAX_HOLDOUT_BP = 5000


def text_check(text: str, fields: frozenset[str] = MERGE_FIELDS) -> str | None:
    """Why a variant's text cannot be merged, or None. Only the merge `fields` (a campaign's:
    {name} {points} {link}); {{ }} for braces."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return "unbalanced { or }"
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in fields or spec or conversion:
            named = [f"{{{name}}}" for name in sorted(fields, key=lambda f: (f == "link", f))]
            return f"unknown merge field {{{field}}}: use {', '.join(named[:-1])} or {named[-1]}"
    return None


def int_field(data: dict, name: str, *, low: int, high: int, default: int) -> int:
    value = data.get(name, default)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(detail={name: "a whole number"}) from None
    if isinstance(value, bool) or not low <= number <= high:
        raise InvalidInput(detail={name: f"between {low} and {high}"})
    return number


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    when = value if isinstance(value, datetime) else parse_datetime(str(value)[:40])
    if when is None:
        raise InvalidInput(detail={"scheduled_at": "a date and time"})
    return when if timezone.is_aware(when) else timezone.make_aware(when)


def _variants(data: dict) -> list[dict]:
    raw = data.get("variants")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_VARIANTS:
        raise InvalidInput(detail={"variants": f"1 to {MAX_VARIANTS} variants"})
    cleaned = []
    for i, item in enumerate(raw):
        item = item if isinstance(item, dict) else {"text": item}
        text = str(item.get("text") or "").strip()
        subject = str(item.get("subject") or "").strip()
        if not 1 <= len(text) <= 500 or len(subject) > 80:
            raise InvalidInput(detail={f"variants.{i}.text": "1 to 500 characters (subject at most 80)"})
        problem = text_check(text)
        if problem:
            raise InvalidInput(detail={f"variants.{i}.text": problem})
        cleaned.append({"text": text, "subject": subject})
    return cleaned


def campaign_data_clean(*, shop: Shop, data: dict) -> dict:
    """Check a campaign form (console or API) and resolve its references within the shop."""
    name = str(data.get("name") or "").strip()
    if not 1 <= len(name) <= 60:
        raise InvalidInput(detail={"name": "required, at most 60 characters"})
    channel = str(data.get("channel") or "")
    if channel not in CHANNELS:
        raise InvalidInput(detail={"channel": f"one of {', '.join(CHANNELS)}"})
    segment = _segment(shop, data.get("segment"))
    target = str(data.get("target") or CampaignTarget.HOME)
    if target not in CampaignTarget.values:
        raise InvalidInput(detail={"target": "home, product or coupon"})
    coupon = _coupon(shop, data.get("coupon"))
    target_ref = ""
    if target == CampaignTarget.PRODUCT:
        target_ref = str(data.get("target_ref") or "")[:20]
        if not target_ref:
            raise _settings_conflict({"target_ref": "a product page needs the product's id"})
        if not Product.objects.filter(shop=shop, public_id=target_ref).exists():
            raise NotFound(_("This product does not exist."), detail={"target_ref": target_ref})
    if target == CampaignTarget.COUPON and coupon is None:
        raise _settings_conflict({"coupon": "choose the coupon whose page the link opens"})
    return {
        "name": name,
        "channel": channel,
        "segment": segment,
        "segment_name": segment.name,
        "holdout_bp": int_field(data, "holdout_bp", low=0, high=MAX_HOLDOUT_BP, default=1000),
        "target": target,
        "target_ref": target_ref,
        "coupon": coupon,
        "attribution_days": int_field(data, "attribution_days", low=1, high=60, default=7),
        "margin_bp": int_field(data, "margin_bp", low=0, high=10000, default=3000),
        "scheduled_at": _when(data.get("scheduled_at")),
        "variants": _variants(data),
    }


def _settings_conflict(detail: dict) -> Conflict:
    """Fields that are each fine but do not go together (409, as the other promotion forms answer)."""
    return Conflict(_("These settings do not go together."), code="settings_conflict", detail=detail)


def _segment(shop: Shop, ref: Any) -> Segment:
    try:
        number = int(ref)
    except (TypeError, ValueError):
        raise InvalidInput(detail={"segment": "a saved segment's id"}) from None
    segment = Segment.objects.filter(shop=shop, pk=number).first() if 0 < number < 2**62 else None
    if segment is None:
        raise NotFound(_("This segment does not exist."), detail={"segment": str(ref)[:20]})
    return segment


def _coupon(shop: Shop, ref: Any) -> Coupon | None:
    if ref in (None, ""):
        return None
    coupon = Coupon.objects.filter(shop=shop, public_id=str(ref)[:16]).first()
    if coupon is None:
        raise NotFound(_("This coupon does not exist."), detail={"coupon": str(ref)[:16]})
    if coupon.status == CouponStatus.ENDED:
        raise Conflict(_("This coupon is over."), code="coupon_over", detail={"coupon": coupon.public_id})
    return coupon


def _write_variants(campaign: Campaign, variants: list[dict]) -> None:
    CampaignVariant.objects.filter(campaign=campaign).delete()
    CampaignVariant.objects.bulk_create(
        [
            CampaignVariant(campaign=campaign, index=i, text=v["text"], subject=v["subject"])
            for i, v in enumerate(variants)
        ]
    )


def campaign_create(*, actor, shop: Shop, data: dict) -> Campaign:
    """A draft campaign (promotions.manage). Nothing is sent until it is started."""
    require(actor, MANAGE, shop_id=shop.pk)
    cleaned = campaign_data_clean(shop=shop, data=data)
    variants = cleaned.pop("variants")
    with transaction.atomic():
        campaign = Campaign.objects.create(
            shop=shop,
            public_id=public_id(12),
            seed=secrets.token_hex(16),
            created_by=actor_describe(actor)[1][:120],
            **cleaned,
        )
        _write_variants(campaign, variants)
        _audit(campaign, actor, "create")
    return campaign


def _audit(campaign: Campaign, actor, what: str) -> None:
    audit_record(shop_id=campaign.shop_id, actor=actor, action=f"campaign.{what}", target=campaign)


def campaign_of_shop(*, shop: Shop, public_id: str, lock: bool = False) -> Campaign:
    rows = Campaign.objects.filter(shop=shop, public_id=str(public_id)[:16])
    campaign = (rows.select_for_update() if lock else rows).first()
    if campaign is None:
        raise NotFound(_("This campaign does not exist."), detail={"campaign": str(public_id)[:16]})
    return campaign


def campaign_update(*, actor, shop: Shop, public_id: str, data: dict) -> Campaign:
    """Change a draft (409 campaign_not_draft once started). Locks: the campaign row."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        campaign = campaign_of_shop(shop=shop, public_id=public_id, lock=True)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict(_("Only a draft can be changed."), code="campaign_not_draft")
        cleaned = campaign_data_clean(shop=shop, data=data)
        variants = cleaned.pop("variants")
        for key, value in cleaned.items():
            setattr(campaign, key, value)
        campaign.save()
        _write_variants(campaign, variants)
        _audit(campaign, actor, "update")
    return campaign


def campaign_delete(*, actor, shop: Shop, public_id: str) -> None:
    """Delete a draft (a started campaign is cancelled instead, so its results stay)."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        campaign = campaign_of_shop(shop=shop, public_id=public_id, lock=True)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict(_("Only a draft can be deleted; cancel a started campaign."), code="campaign_not_draft")
        _audit(campaign, actor, "delete")
        campaign.delete()


def campaign_start(*, actor, shop: Shop, public_id: str, at: datetime | None = None) -> Campaign:
    """Schedule a draft for `at` (or its saved time, or now). The worker prepares it when due; a
    start for now is queued at once. Locks: the campaign row."""
    require(actor, MANAGE, shop_id=shop.pk)
    now = timezone.now()
    with transaction.atomic():
        campaign = campaign_of_shop(shop=shop, public_id=public_id, lock=True)
        when = at or campaign.scheduled_at or now
        if when < now:
            when = now
        if campaign.segment_id is None:
            raise Conflict(_("The campaign's segment was deleted."), code="segment_gone")
        if campaign.coupon_id and Coupon.objects.filter(pk=campaign.coupon_id, status=CouponStatus.ACTIVE).count() == 0:
            raise Conflict(_("Start the coupon before the campaign that gives it."), code="coupon_not_active")
        CAMPAIGN.move(campaign, to=CampaignStatus.SCHEDULED, actor=actor, fields={"scheduled_at": when})
        if when <= now:
            transaction.on_commit(lambda: _enqueue_prepare(campaign.pk))
    return campaign


def campaign_cancel(*, actor, shop: Shop, public_id: str, why: str = "") -> Campaign:
    """Stop a campaign: nothing more is sent (messages already sent stay sent, and its results
    are still measured). Locks: the campaign row; the worker checks the status before each batch."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        campaign = campaign_of_shop(shop=shop, public_id=public_id, lock=True)
        started = campaign.send_started_at is not None
        CAMPAIGN.move(
            campaign, to=CampaignStatus.CANCELLED, actor=actor, why=why, fields={"finished_at": timezone.now()}
        )
        if started:
            campaign_finished_record(campaign)
    return campaign


def _enqueue_prepare(campaign_id: int) -> None:
    from .tasks import campaign_prepare_task

    campaign_prepare_task(campaign_id)
