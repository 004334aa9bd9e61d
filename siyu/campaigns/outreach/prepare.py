"""Preparing a campaign: snapshot the audience into recipients, dealing holdout and variants.

Runs in the worker, BATCH customers at a time, each batch its own short transaction, so a
100,000-customer audience never holds a request or one long transaction. The snapshot is fixed
when preparing begins: the segment's rules are evaluated over customers up to the highest
customer id then (a customer who joins later is not added halfway). Only customers with
marketing consent enter the audience, so the control group and the messaged groups are drawn from
the same people the channel may reach (the comparison stays fair).

Random but reproducible: each customer's group comes from a keyed hash of the campaign's stored
seed and the customer id (uniform, unpredictable without the seed), so a worker that stops and
starts again deals every customer exactly as before; the unique (campaign, customer) constraint
and the cursor make a repeated batch a no-op. Link codes are random per recipient (secrets).
"""

import hashlib
import secrets

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from siyu.customers.segments import customers_matching

from .events import campaign_finished_record, campaign_started_record
from .models import Campaign, CampaignRecipient, CampaignStatus, CampaignVariant, RecipientStatus
from .states import CAMPAIGN

BATCH = 2000


def deal(*, seed: str, customer_id: int, holdout_bp: int, variants: int) -> int | None:
    """The group of one customer: None for the control group, else the variant index 0..n-1."""
    digest = hashlib.blake2b(f"{seed}:{customer_id}".encode(), digest_size=16).digest()
    if int.from_bytes(digest[:8], "big") % 10000 < holdout_bp:
        return None
    return int.from_bytes(digest[8:], "big") % variants


def link_code() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, 72 random bits


def recipients_build(campaign: Campaign, customer_ids: list[int], variant_ids: list[int]) -> list[CampaignRecipient]:
    rows = []
    for customer_id in customer_ids:
        group = deal(
            seed=campaign.seed, customer_id=customer_id, holdout_bp=campaign.holdout_bp, variants=len(variant_ids)
        )
        rows.append(
            CampaignRecipient(
                campaign_id=campaign.pk,
                customer_id=customer_id,
                variant_id=None if group is None else variant_ids[group],
                code=link_code(),
                status=RecipientStatus.CONTROL if group is None else RecipientStatus.PENDING,
            )
        )
    return rows


def _audience(campaign: Campaign):
    assert campaign.segment is not None
    return customers_matching(shop_id=campaign.shop_id, rules=campaign.segment.rules).filter(
        marketing_consent_at__isnull=False
    )


def campaign_prepare_run(*, campaign_id: int) -> Campaign | None:
    """Take a due scheduled campaign (or resume one left preparing) and prepare it to the end,
    then hand it to sending. Returns None when there was nothing to do."""
    now = timezone.now()
    started = CAMPAIGN.claim(
        Campaign.objects.filter(pk=campaign_id, scheduled_at__lte=now),
        current=CampaignStatus.SCHEDULED,
        to=CampaignStatus.PREPARING,
        heartbeat_at=now,
    )
    campaign = Campaign.objects.select_related("segment").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.PREPARING:
        return None
    if started or not campaign.audience_max_customer_id:
        if campaign.segment is None:
            _cancel(campaign, "the segment was deleted")
            return campaign
        top = _audience(campaign).aggregate(top=Max("pk"))["top"] or 0
        Campaign.objects.filter(pk=campaign.pk, audience_max_customer_id=0).update(audience_max_customer_id=top)
        campaign.refresh_from_db()
    variant_ids = list(CampaignVariant.objects.filter(campaign=campaign).order_by("index").values_list("pk", flat=True))
    while True:
        if not prepare_batch(campaign, variant_ids):
            break
        campaign.refresh_from_db()
        if campaign.status != CampaignStatus.PREPARING:  # cancelled meanwhile
            return campaign
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status == CampaignStatus.PREPARING:
            CAMPAIGN.move(
                locked,
                to=CampaignStatus.SENDING,
                actor="worker",
                fields={"send_started_at": timezone.now(), "heartbeat_at": None},
            )
            campaign_started_record(locked)
            transaction.on_commit(lambda: _enqueue_send(campaign.pk))
    return locked


def prepare_batch(campaign: Campaign, variant_ids: list[int]) -> int:
    """One batch past the cursor, in its own transaction; returns how many customers it covered."""
    if campaign.segment is None or not variant_ids:
        return 0
    ids = list(
        _audience(campaign)
        .filter(pk__gt=campaign.last_customer_id, pk__lte=campaign.audience_max_customer_id)
        .order_by("pk")
        .values_list("pk", flat=True)[:BATCH]
    )
    if not ids:
        return 0
    rows = recipients_build(campaign, ids, variant_ids)
    control = sum(1 for r in rows if r.status == RecipientStatus.CONTROL)
    with transaction.atomic():
        # The cursor moves only if it is still where this batch began: a second worker resuming
        # the same campaign cannot count a batch twice (its rows are ignored as duplicates too).
        moved = Campaign.objects.filter(pk=campaign.pk, last_customer_id=campaign.last_customer_id).update(
            last_customer_id=ids[-1],
            prepared=campaign.prepared + len(rows),
            control=campaign.control + control,
            heartbeat_at=timezone.now(),
        )
        if moved:
            CampaignRecipient.objects.bulk_create(rows, ignore_conflicts=True)
    return len(ids)  # when another worker moved the cursor first, the caller re-reads it and goes on


def _cancel(campaign: Campaign, why: str) -> None:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if CAMPAIGN.can(locked.status, CampaignStatus.CANCELLED):
            started = locked.send_started_at is not None
            CAMPAIGN.move(
                locked, to=CampaignStatus.CANCELLED, actor="worker", why=why, fields={"finished_at": timezone.now()}
            )
            if started:
                campaign_finished_record(locked)


def _enqueue_send(campaign_id: int) -> None:
    from .tasks import campaign_send_task

    campaign_send_task(campaign_id)
