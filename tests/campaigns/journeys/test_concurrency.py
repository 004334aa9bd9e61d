"""PostgreSQL, real threads: parallel runs of one journey (several workers, or a sweep that
overlaps a restarted one) enrol every customer once and send every message once."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.campaigns.channels import sending as channel_sending
from siyu.campaigns.channels.models import MessageLog
from siyu.campaigns.journeys import enrol, sending, triggers
from siyu.campaigns.journeys.engine import journey_run
from siyu.campaigns.journeys.models import EnrolmentStatus, JourneyEnrolment
from siyu.customers.models import Lifecycle

from ...concurrency import run_parallel
from .conftest import channels_on, journey, person

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_runs_enrol_once_and_send_once(postgres_only, shop, owner, monkeypatch):
    monkeypatch.setattr(triggers, "BATCH", 7)  # many batches, so the runs interleave
    monkeypatch.setattr(sending, "BATCH", 5)
    channels_on(shop)
    lock, calls = threading.Lock(), []
    real = channel_sending.BACKENDS["log"]

    def counting(**kwargs):
        with lock:
            calls.append(kwargs["recipient"].address)
        return real(**kwargs)

    monkeypatch.setitem(channel_sending.BACKENDS, "log", counting)
    last = timezone.now() - timedelta(days=90)
    pool = [person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=last) for _ in range(40)]
    j = journey(owner, shop, "winback", holdout_bp=2000)
    run_parallel(lambda: journey_run(journey_id=j.pk), [()] * 4)
    rows = JourneyEnrolment.objects.filter(journey=j)
    assert rows.count() == 40 and set(rows.values_list("customer_id", flat=True)) == {c.pk for c in pool}
    held = rows.filter(status=EnrolmentStatus.HOLDOUT).count()
    assert rows.filter(status=EnrolmentStatus.SENT).count() == 40 - held
    assert len(calls) == len(set(calls)) == 40 - held
    assert MessageLog.objects.filter(key__startswith=f"journey:{j.pk}:").count() == 40 - held
    # once more, all at once: nothing new
    assert run_parallel(lambda: enrol.journey_enrol_due(journey=j), [()] * 3) == [0, 0, 0]
    assert len(calls) == 40 - held
