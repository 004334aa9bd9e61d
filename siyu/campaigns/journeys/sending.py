"""Sending a journey's due messages, batch by batch, in the worker.

Claim, call, settle (as the campaigns do, siyu/campaigns/outreach/sending.py): a batch of due
rows is claimed with one conditional UPDATE that stamps this sender's token on them
(pending → sending), so two senders never take the same row; each message goes to the channel
outside any transaction; the batch is settled in one short transaction. A sender that dies leaves
its rows "sending"; after LEASE the next run puts them back to pending and sends them again,
which is safe: the channel is idempotent on the key
"journey:<id>:<customer id>:<occasion>:<channel>" and answers the first result.

Held-out rows are never selected (their status is "holdout"), so they are never messaged. Retries
follow the campaigns' back-off, and a paused journey sends nothing more until switched on.
"""

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from siyu.accounts.models import Shopper
from siyu.campaigns.channels import api as channels
from siyu.campaigns.outreach.sending import BACKOFF, FINAL_FAILURES, MAX_ATTEMPTS, RETRY_REASONS

from .models import EnrolmentStatus, Journey, JourneyEnrolment

BATCH = 500
LEASE = timedelta(minutes=5)
S = EnrolmentStatus


def tracked_link(shop, code: str) -> str:
    """The enrolment's /j/<code>/ link, where the shop's storefront is reached from outside."""
    return channels.storefront_url(shop, "journey_link", code)


def merge(text: str, *, name: str, shop: str, product: str, link: str) -> str:
    """The variant's text with its merge fields (services.text_check allowed only these)."""
    return text.format_map({"name": name or _("friend"), "shop": shop, "product": product, "link": link})


def message_key(row: JourneyEnrolment, channel: str) -> str:
    return f"journey:{row.journey_id}:{row.customer_id}:{row.occasion}:{channel}"[:120]


def stale_release(*, journey_id: int, now: datetime) -> int:
    """Rows a dead sender left "sending" past the lease go back to pending."""
    return JourneyEnrolment.objects.filter(journey_id=journey_id, status=S.SENDING, claimed_at__lt=now - LEASE).update(
        status=S.PENDING, claim=""
    )


def journey_send_due(*, journey_id: int, now_fn: Callable[[], datetime] = timezone.now) -> int:
    """Send every due message of an active journey. Returns how many were tried."""
    stale_release(journey_id=journey_id, now=now_fn())
    tried = 0
    while True:
        journey = Journey.objects.select_related("shop", "coupon").filter(pk=journey_id, active=True).first()
        if journey is None:
            return tried
        done = send_batch(journey, now_fn())
        if not done:
            return tried
        tried += done


def _claim(journey: Journey, now: datetime) -> list[JourneyEnrolment]:
    due = JourneyEnrolment.objects.filter(journey_id=journey.pk, status=S.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    ids = list(due.order_by("id").values_list("pk", flat=True)[:BATCH])
    if not ids:
        return []
    token = secrets.token_hex(8)
    JourneyEnrolment.objects.filter(pk__in=ids, status=S.PENDING).update(
        status=S.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
    )
    return list(
        JourneyEnrolment.objects.filter(pk__in=ids, status=S.SENDING, claim=token)
        .select_related("customer", "variant")
        .order_by("id")
    )


def send_batch(journey: Journey, now: datetime) -> int:
    """Claim, send and settle one batch; returns how many rows it claimed."""
    rows = _claim(journey, now)
    if not rows:
        return 0
    results = [(row, _send_one(journey, row)) for row in rows]
    _settle(journey, results, now)
    return len(rows)


def _send_one(journey: Journey, row: JourneyEnrolment):
    if row.variant is None:  # its variant was removed after it was dealt: nothing to say
        return channels.SendResult(status="refused", reason="no_variant")
    link = tracked_link(journey.shop, row.code)
    text = merge(row.variant.text, name=row.customer.name, shop=journey.shop.name, product=row.detail, link=link)
    if journey.coupon_id:
        allowed, reason = channels.message_allowed(shop=journey.shop, customer=row.customer, channel=journey.channel)
        if not allowed:
            return channels.SendResult(status="refused", reason=reason)
        _grant_coupon(journey, row)
    placed = "{link}" in row.variant.text and journey.channel != "wechat_oa"
    message = channels.Message(
        channel=journey.channel,
        text=text,
        subject=row.variant.subject or journey.name,
        link="" if placed else link,
        key=message_key(row, journey.channel),
    )
    return channels.message_send(shop=journey.shop, customer=row.customer, message=message)


def _grant_coupon(journey: Journey, row: JourneyEnrolment) -> None:
    """The journey's coupon for this occasion, once (the grant's slot names the enrolment)."""
    from siyu.promotions.coupons.models import GrantSource
    from siyu.promotions.coupons.services import coupon_grant_issue

    shopper_id = row.customer.shopper_id
    if shopper_id is None:
        shopper_id = Shopper.objects.filter(phone_hash=row.customer.phone_hash).values_list("pk", flat=True).first()
    if shopper_id is None or journey.coupon is None:
        return
    source = GrantSource.BIRTHDAY if journey.kind == "birthday" else GrantSource.SEGMENT
    coupon_grant_issue(coupon=journey.coupon, shopper_id=shopper_id, slot=f"journey:{row.pk}", source=source)


def next_try(
    row: JourneyEnrolment, status: str, reason: str, now: datetime, quiet_end: Callable[[], datetime]
) -> tuple[str, datetime | None, int]:
    """(status, next attempt, attempts) for a send result: final, or pending again after a back-off."""
    if status == "sent":
        return S.SENT, None, row.attempts
    if status == "refused" and reason in RETRY_REASONS:
        return S.PENDING, quiet_end(), max(row.attempts - 1, 0)  # quiet hours use no attempt
    if status == "failed" and reason not in FINAL_FAILURES and row.attempts < MAX_ATTEMPTS:
        return S.PENDING, now + BACKOFF[min(row.attempts, len(BACKOFF)) - 1], row.attempts
    return (S.REFUSED if status == "refused" else S.FAILED), None, row.attempts


def _settle(journey: Journey, results: list, now: datetime) -> None:
    quiet: list[datetime] = []

    def quiet_end() -> datetime:  # asked once per batch at most
        if not quiet:
            quiet.append(channels.next_send_time(shop=journey.shop, now=now))
        return quiet[0]

    for row, result in results:
        row.status, row.next_attempt_at, row.attempts = next_try(row, result.status, result.reason, now, quiet_end)
        row.reason = str(result.reason or "")[:40]
        row.claim = ""
        if row.status == S.SENT:
            row.cost_fen, row.sent_at = int(result.cost_fen or 0), now
    with transaction.atomic():
        JourneyEnrolment.objects.bulk_update(
            [row for row, _result in results],
            ["status", "next_attempt_at", "attempts", "reason", "claim", "cost_fen", "sent_at"],
        )
