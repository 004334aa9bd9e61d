"""Preparing and sending webhook deliveries: at least once, same id on every try, backing off.

1. `webhooks_fan_out` is an outbox subscriber (siyu.core.events): in the worker, after the change
   committed, it turns the event into webhook events (fixed id and body) and one delivery per
   enabled endpoint that wants the type. It may run twice for one event (at-least-once outbox): the
   unique (source, part) and (endpoint, event) keys make the second run find the first's rows.
2. `delivery_attempt` (a worker task per delivery) claims the delivery with one conditional UPDATE
   (pending and due → sending, so two workers never send it at once), sends it with no transaction
   open, then records the answer under a fresh transaction. A worker that dies mid-send leaves the
   claim; the sweep takes back claims older than CLAIM_TIMEOUT and sends again (same event id).
3. A non-2xx answer (3xx included: redirects are not followed), a timeout or a refused address is a
   failure: the next try waits BACKOFF[n] plus up to 20% jitter, 8 tries over about 42 hours; then
   the delivery is failed (staff can resend it). An endpoint whose deliveries failed
   DISABLE_AFTER_FAILURES times in a row, or without a success for DISABLE_AFTER_DAYS, is disabled
   and the shop's owners are told (console notice, audit row, email where they have one).
"""

import json
import logging
import random
import time
from datetime import datetime, timedelta

import requests
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.core.audit import audit_record
from siyu.core.ids import public_id
from siyu.core.models import OutboxEvent

from .guard import checked_session
from .models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .payloads import webhook_data
from .signing import signature_header

logger = logging.getLogger("siyu.webhooks")

TIMEOUT_SECONDS = 10
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=24),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
JITTER = 0.2
CLAIM_TIMEOUT = timedelta(minutes=5)
DISABLE_AFTER_FAILURES = 50
DISABLE_AFTER_DAYS = 3
USER_AGENT = "Siyu-Webhooks/1"


def backoff_delay(attempts: int, *, rand: random.Random | None = None) -> timedelta:
    """How long to wait after the `attempts`-th failed try (1-based): the schedule plus jitter, so
    endpoints that failed together do not all come back at the same second."""
    base = BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]
    return base * (1 + (rand or random).uniform(0, JITTER))


# --- preparing -------------------------------------------------------------------------------


def webhooks_fan_out(event: OutboxEvent) -> int:
    """Deliveries for one outbox event; returns how many are (now) pending for it."""
    if event.shop_id is None:
        return 0
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(shop_id=event.shop_id, status=EndpointStatus.ENABLED)
        if e.wants(event.topic)
    ]
    if not endpoints:
        return 0  # most shops: one query, nothing else
    parts = webhook_data(event)
    if not parts:
        return 0
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                shop_id=event.shop_id,
                public_id="evt_" + public_id(24),
                type=event.topic,
                data=data,
                created_at=event.created_at,
                source=event.pk,
                part=part,
            )
            for part, data in parts
        ],
        ignore_conflicts=True,
    )
    made = list(WebhookEvent.objects.filter(source=event.pk).order_by("part"))
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                shop_id=event.shop_id, public_id=public_id(16), endpoint=endpoint, event=made_event, next_attempt_at=now
            )
            for made_event in made
            for endpoint in endpoints
        ],
        ignore_conflicts=True,
    )
    due = list(
        WebhookDelivery.objects.filter(event__source=event.pk, status=DeliveryStatus.PENDING, attempts=0)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    def enqueue_all() -> None:
        for pk in due:
            delivery_enqueue(pk)

    transaction.on_commit(enqueue_all)
    return len(due)


def delivery_enqueue(delivery_id: int) -> None:
    from .tasks import webhook_deliver

    try:
        webhook_deliver(delivery_id)
    except Exception:  # noqa: BLE001 - a queue outage must not fail the caller; the sweep sends it
        logger.exception("could not enqueue webhook delivery %s; the sweep will pick it up", delivery_id)


# --- sending ---------------------------------------------------------------------------------


def delivery_body(event: WebhookEvent) -> bytes:
    envelope = {
        "id": event.public_id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    current = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        current.append(endpoint.previous_secret)
    return current


def _post(endpoint: WebhookEndpoint, event: WebhookEvent, now: datetime) -> tuple[int | None, str]:
    """(status code or None, error) — the network call, with no transaction open."""
    body = delivery_body(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Siyu-Event-Id": event.public_id,
        "Siyu-Signature": signature_header(
            secrets_=signing_secrets(endpoint, now), timestamp=int(time.time()), body=body
        ),
    }
    try:
        with checked_session() as session:
            response = session.post(
                endpoint.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False, stream=True
            )
            response.close()  # the answer's body is not ours to read
    except requests.Timeout:
        return None, "timeout"
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return response.status_code, "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def delivery_attempt(*, delivery_id: int) -> str:
    """Send one due delivery once. Returns "succeeded", "retry", "failed" or "skipped" (not due,
    taken by another worker, or its endpoint disabled)."""
    now = timezone.now()
    # Plain columns only: on PostgreSQL an UPDATE whose filter joins another table becomes
    # "id IN (subquery)", which is not re-checked after waiting for a competing claim.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=DeliveryStatus.SENDING, claimed_at=now)
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    if delivery.endpoint.status != EndpointStatus.ENABLED:  # it waits, due, for the endpoint to be enabled
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.PENDING, claimed_at=None
        )
        return "skipped"
    code, error = _post(delivery.endpoint, delivery.event, now)
    return _record(delivery, code=code, error=error)


def _record(delivery: WebhookDelivery, *, code: int | None, error: str) -> str:
    now = timezone.now()
    ok = not error
    attempts = delivery.attempts + 1
    if ok:
        outcome, status, next_at = "succeeded", DeliveryStatus.SUCCEEDED, None
    elif attempts >= delivery.max_attempts:
        outcome, status, next_at = "failed", DeliveryStatus.FAILED, None
    else:
        outcome, status, next_at = "retry", DeliveryStatus.PENDING, now + backoff_delay(attempts)
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=status,
            attempts=F("attempts") + 1,
            next_attempt_at=next_at,
            claimed_at=None,
            last_attempt_at=now,
            last_status_code=code,
            last_error=error[:300],
        )
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if ok:
            endpoints.exclude(consecutive_failures=0, failing_since=None).update(
                consecutive_failures=0, failing_since=None
            )
        else:
            endpoints.update(
                consecutive_failures=F("consecutive_failures") + 1, failing_since=Coalesce("failing_since", now)
            )
            _disable_if_failing(delivery.endpoint, now)
    logger.info(
        "webhook %s to endpoint %s: %s %s", delivery.event.public_id, delivery.endpoint.public_id, outcome, error
    )
    return outcome


def _disable_if_failing(endpoint: WebhookEndpoint, now: datetime) -> None:
    failing = Q(consecutive_failures__gte=DISABLE_AFTER_FAILURES) | Q(
        failing_since__lte=now - timedelta(days=DISABLE_AFTER_DAYS)
    )
    disabled = (
        WebhookEndpoint.objects.filter(pk=endpoint.pk, status=EndpointStatus.ENABLED)
        .filter(failing)
        .update(status=EndpointStatus.DISABLED, disabled_reason="failing", disabled_at=now)
    )
    if disabled:
        audit_record(
            shop_id=endpoint.shop_id,
            actor="system",
            action="webhook.auto_disable",
            target=endpoint,
            data={"url": endpoint.url},
        )
        pk = endpoint.pk
        transaction.on_commit(lambda: _tell_owners(pk))


def _tell_owners(endpoint_id: int) -> None:
    from .tasks import webhook_disabled_mail

    try:
        webhook_disabled_mail(endpoint_id)
    except Exception:  # noqa: BLE001 - the console notice stands on its own
        logger.exception("could not enqueue the disabled-endpoint mail for %s", endpoint_id)


def deliveries_sweep(*, limit: int = 500) -> int:
    """Take back stale claims and enqueue every due delivery. Returns how many were enqueued."""
    now = timezone.now()
    WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=now
    )
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, endpoint__status=EndpointStatus.ENABLED
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        delivery_enqueue(pk)
    return len(due)


def deliveries_purge(*, older_than_days: int = 30) -> int:
    """Forget delivered and failed deliveries after a month, then events nothing points at."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    finished = [DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED]
    gone, _ = WebhookDelivery.objects.filter(status__in=finished, created_at__lt=cutoff).delete()
    WebhookEvent.objects.filter(created_at__lt=cutoff, deliveries__isnull=True).delete()
    return gone
