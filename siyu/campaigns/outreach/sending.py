"""Sending a prepared campaign, batch by batch, in the worker.

Claim, call, settle (as siyu/distribution/withdrawals.py): a batch of due recipients is claimed
(pending → sending, one conditional UPDATE), each message goes to the channel outside any
transaction, and the batch is settled in one short transaction. One worker sends a campaign at a
time: it holds the campaign's lease (`heartbeat_at`, renewed every batch); a worker that stops
loses it after LEASE and the sweep hands the campaign to another, which first puts the rows the
dead worker left in "sending" back to pending. Sending one of those again is safe: the channel is
idempotent on the key "campaign:<id>:<customer id>:<channel>" and answers the first result.

Control recipients are never selected here (their status is "control"), so they are never messaged.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import Shopper
from siyu.customers.models import PointsEntry

from .events import campaign_finished_record
from .models import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from .states import CAMPAIGN

BATCH = 500  # messages per batch: each is a provider call, so smaller than preparing's batches
LEASE = timedelta(minutes=3)
MAX_ATTEMPTS = 6
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))
RETRY_REASONS = frozenset({"quiet_hours"})  # refusals that pass; every "failed" is retried too…
FINAL_FAILURES = frozenset({"outcome_unknown"})  # …but this one (the channel never sends it again)


def _channels():
    from siyu.campaigns.channels import api

    return api


def link_base(shop) -> str:
    """Where the shop's storefront is reached from outside (its host, else SIYU_PUBLIC_URL with the
    shop's /s/<slug> prefix unless it is the default shop), for a path reversed outside a request."""
    return _channels().storefront_base(shop)


def tracked_link(shop, code: str) -> str:
    """The recipient's /go/<code>/ link, where the shop's storefront is reached from outside."""
    return _channels().storefront_url(shop, "campaign_link", code)


def merge(text: str, *, name: str, points: int, link: str) -> str:
    """The variant's text with its merge fields filled in (services.text_check allowed only these)."""
    return text.format_map({"name": name or _("friend"), "points": points, "link": link})


def _lease(campaign_id: int, now: datetime) -> bool:
    """Take or renew the campaign's sending lease: one conditional UPDATE."""
    free = Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - LEASE)
    return bool(Campaign.objects.filter(free, pk=campaign_id, status=CampaignStatus.SENDING).update(heartbeat_at=now))


def campaign_send_run(*, campaign_id: int, now_fn: Callable[[], datetime] = timezone.now) -> str:
    """Send every due recipient of a campaign. Returns "done", "waiting" (retries due later),
    "busy" (another worker holds it) or "stopped" (not sending)."""
    if not _lease(campaign_id, now_fn()):
        return "busy" if Campaign.objects.filter(pk=campaign_id, status=CampaignStatus.SENDING).exists() else "stopped"
    # We hold the lease: rows left "sending" belong to a worker that stopped mid-batch.
    CampaignRecipient.objects.filter(campaign_id=campaign_id, status=RecipientStatus.SENDING).update(
        status=RecipientStatus.PENDING
    )
    while True:
        campaign = Campaign.objects.select_related("shop", "coupon").get(pk=campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            return "stopped"
        if not send_batch(campaign, now_fn()):
            break
        Campaign.objects.filter(pk=campaign_id).update(heartbeat_at=now_fn())
    return _finish_or_wait(campaign_id)


def _finish_or_wait(campaign_id: int) -> str:
    open_rows = CampaignRecipient.objects.filter(
        campaign_id=campaign_id, status__in=[RecipientStatus.PENDING, RecipientStatus.SENDING]
    )
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != CampaignStatus.SENDING:
            return "stopped"
        if open_rows.exists():
            # Release the lease so the sweep can resume it when the retries are due.
            Campaign.objects.filter(pk=campaign_id).update(heartbeat_at=None)
            return "waiting"
        CAMPAIGN.move(campaign, to=CampaignStatus.DONE, actor="worker", fields={"finished_at": timezone.now()})
        campaign_finished_record(campaign)
    return "done"


def send_batch(campaign: Campaign, now: datetime) -> int:
    """Claim, send and settle one batch of due recipients; returns how many were tried."""
    due = CampaignRecipient.objects.filter(campaign_id=campaign.pk, status=RecipientStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    ids = list(due.order_by("id").values_list("pk", flat=True)[:BATCH])
    if not ids:
        return 0
    CampaignRecipient.objects.filter(pk__in=ids, status=RecipientStatus.PENDING).update(
        status=RecipientStatus.SENDING, attempts=F("attempts") + 1
    )
    rows = list(
        CampaignRecipient.objects.filter(pk__in=ids, status=RecipientStatus.SENDING)
        .select_related("customer", "variant")
        .order_by("id")
    )
    points = _points_of([r.customer_id for r in rows]) if _uses_points(rows) else {}
    results = [(row, _send_one(campaign, row, points.get(row.customer_id, 0), now)) for row in rows]
    _settle(campaign, results, now)
    return len(rows)


def _uses_points(rows: list[CampaignRecipient]) -> bool:
    return any(row.variant is not None and "{points}" in row.variant.text for row in rows)


def _points_of(customer_ids: list[int]) -> dict[int, int]:
    sums = PointsEntry.objects.filter(customer_id__in=customer_ids).values("customer_id").annotate(total=Sum("delta"))
    return {s["customer_id"]: s["total"] or 0 for s in sums}


def _send_one(campaign: Campaign, row: CampaignRecipient, points: int, now: datetime):
    api = _channels()
    assert row.variant is not None  # control rows are never claimed
    link = tracked_link(campaign.shop, row.code)
    text = merge(row.variant.text, name=row.customer.name, points=points, link=link)
    if campaign.coupon_id:
        allowed, reason = api.message_allowed(shop=campaign.shop, customer=row.customer, channel=campaign.channel)
        if not allowed:
            return api.SendResult(status="refused", reason=reason)
        _grant_coupon(campaign, row)
    # The channel appends `link` to the text itself (and uses it as an Official Account message's
    # URL); a text that placed {link} already carries it.
    placed = "{link}" in row.variant.text and campaign.channel != "wechat_oa"
    message = api.Message(
        channel=campaign.channel,
        text=text,
        subject=row.variant.subject or campaign.name,
        link="" if placed else link,
        key=f"campaign:{campaign.pk}:{row.customer_id}:{campaign.channel}",
    )
    return api.message_send(shop=campaign.shop, customer=row.customer, message=message)


def _grant_coupon(campaign: Campaign, row: CampaignRecipient) -> None:
    """The campaign's coupon for this recipient, once (the grant's slot is the campaign's)."""
    from siyu.promotions.coupons.models import GrantSource
    from siyu.promotions.coupons.services import coupon_grant_issue

    shopper_id = row.customer.shopper_id
    if shopper_id is None:  # imported and never signed in: the shopper with that phone, if any
        shopper_id = Shopper.objects.filter(phone_hash=row.customer.phone_hash).values_list("pk", flat=True).first()
    if shopper_id is None or campaign.coupon is None:
        return
    coupon_grant_issue(
        coupon=campaign.coupon, shopper_id=shopper_id, slot=f"campaign:{campaign.pk}", source=GrantSource.SEGMENT
    )


def _next_try(
    row: CampaignRecipient, status: str, reason: str, now: datetime, quiet_end: Callable[[], datetime]
) -> tuple[str, datetime | None, int]:
    """(status, next attempt, attempts) for a result: final, or pending again after a back-off."""
    if status == "sent":
        return RecipientStatus.SENT, None, row.attempts
    if status == "refused" and reason in RETRY_REASONS:
        return RecipientStatus.PENDING, quiet_end(), max(row.attempts - 1, 0)  # quiet hours use no attempt
    if status == "failed" and reason not in FINAL_FAILURES and row.attempts < MAX_ATTEMPTS:
        return RecipientStatus.PENDING, now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1], row.attempts
    return (RecipientStatus.REFUSED if status == "refused" else RecipientStatus.FAILED), None, row.attempts


def _settle(campaign: Campaign, results: list, now: datetime) -> None:
    counts = {RecipientStatus.SENT: 0, RecipientStatus.FAILED: 0, RecipientStatus.REFUSED: 0}
    quiet: list[datetime] = []

    def quiet_end() -> datetime:  # asked once per batch at most
        if not quiet:
            quiet.append(_channels().next_send_time(shop=campaign.shop, now=now))
        return quiet[0]

    for row, result in results:
        row.status, row.next_attempt_at, row.attempts = _next_try(row, result.status, result.reason, now, quiet_end)
        row.reason = str(result.reason or "")[:40]
        if row.status == RecipientStatus.SENT:
            row.cost_fen, row.sent_at = int(result.cost_fen or 0), now
        if row.status in counts:
            counts[row.status] += 1
    with transaction.atomic():
        CampaignRecipient.objects.bulk_update(
            [row for row, _result in results],
            ["status", "next_attempt_at", "attempts", "reason", "cost_fen", "sent_at"],
        )
        Campaign.objects.filter(pk=campaign.pk).update(
            sent=F("sent") + counts[RecipientStatus.SENT],
            failed=F("failed") + counts[RecipientStatus.FAILED],
            refused=F("refused") + counts[RecipientStatus.REFUSED],
        )
