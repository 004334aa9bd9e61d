"""Enrolling the customers a journey finds due: one row per journey × customer × occasion.

Each batch from the finder (siyu/campaigns/journeys/triggers.py) is written in its own short
transaction. The group is dealt at random when the row is made (`secrets`: unpredictable) and
recorded on the row, so it never changes afterwards. Two runs over the same moment (a worker
restarted, two workers at once) meet on the unique (journey, customer, occasion) key: the rows
already there are skipped before the insert, and a row inserted meanwhile by the other run is
ignored by the insert itself — the first deal stands and the customer is enrolled once.
"""

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from .models import EnrolmentStatus, Journey, JourneyEnrolment
from .triggers import Due, due_now


def deal(*, holdout_bp: int, variants: int) -> int | None:
    """None for the holdout, else the variant's index 0..variants-1."""
    if variants < 1 or secrets.randbelow(10000) < holdout_bp:
        return None
    return secrets.randbelow(variants)


def link_code() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, 72 random bits


def _new_rows(journey: Journey, batch: list[Due], variant_ids: list[int], now: datetime) -> list[JourneyEnrolment]:
    known = set(
        JourneyEnrolment.objects.filter(
            journey_id=journey.pk, customer_id__in={d.customer_id for d in batch}
        ).values_list("customer_id", "occasion")
    )
    until = now + timedelta(days=journey.attribution_days)
    rows, seen = [], set()
    for due in batch:
        key = (due.customer_id, due.occasion)
        if key in known or key in seen:
            continue
        seen.add(key)
        group = deal(holdout_bp=journey.holdout_bp, variants=len(variant_ids))
        rows.append(
            JourneyEnrolment(
                journey_id=journey.pk,
                customer_id=due.customer_id,
                occasion=due.occasion[:40],
                detail=due.detail[:60],
                variant_id=None if group is None else variant_ids[group],
                code=link_code(),
                status=EnrolmentStatus.HOLDOUT if group is None else EnrolmentStatus.PENDING,
                enrolled_at=now,
                attributed_until=until,
            )
        )
    return rows


def journey_enrol_due(*, journey: Journey, now: datetime | None = None) -> int:
    """Enrol everyone due for an active journey now. Returns how many new rows this run wrote (a
    row that a parallel run inserted between this run's read and its insert is counted by both,
    though only one exists). Each batch is one read and one short write."""
    now = now or timezone.now()
    variant_ids = list(journey.variants.order_by("index").values_list("pk", flat=True))
    if not journey.active or not variant_ids:
        return 0
    made = 0
    for batch in due_now(journey, now):
        rows = _new_rows(journey, batch, variant_ids, now)
        if not rows:
            continue
        with transaction.atomic():
            JourneyEnrolment.objects.bulk_create(rows, ignore_conflicts=True)
        made += len(rows)
    Journey.objects.filter(pk=journey.pk).update(last_run_at=now)
    return made
