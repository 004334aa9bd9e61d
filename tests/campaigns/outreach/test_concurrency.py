"""PostgreSQL, real threads: parallel workers on one campaign prepare every customer once and
send every message once."""

import threading

import pytest

from siyu.campaigns.channels import sending as channel_sending
from siyu.campaigns.channels.models import MessageLog
from siyu.campaigns.outreach import prepare, sending
from siyu.campaigns.outreach.models import Campaign, CampaignRecipient
from siyu.campaigns.outreach.services import campaign_start

from ...concurrency import run_parallel
from .conftest import draft

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_workers_prepare_and_send_once(postgres_only, shop, owner, pool, segment, monkeypatch):
    monkeypatch.setattr(prepare, "BATCH", 7)  # many batches, so the workers interleave
    monkeypatch.setattr(sending, "BATCH", 5)
    monkeypatch.setattr(prepare, "_enqueue_send", lambda pk: None)
    monkeypatch.setattr("siyu.campaigns.outreach.services._enqueue_prepare", lambda pk: None)
    lock, calls = threading.Lock(), []
    real = channel_sending.BACKENDS["log"]

    def counting(**kwargs):
        with lock:
            calls.append(kwargs["recipient"].address)
        return real(**kwargs)

    monkeypatch.setitem(channel_sending.BACKENDS, "log", counting)
    campaign = draft(owner, shop, segment)
    campaign_start(actor=owner, shop=shop, public_id=campaign.public_id)
    # the first claims it; the others resume it (as the sweep would after a stalled heartbeat)
    Campaign.objects.filter(pk=campaign.pk).update(status="preparing", heartbeat_at=None)
    run_parallel(lambda: prepare.campaign_prepare_run(campaign_id=campaign.pk), [()] * 4)
    campaign.refresh_from_db()
    assert campaign.status == "sending"
    assert campaign.prepared == 40 == CampaignRecipient.objects.filter(campaign=campaign).count()
    assert campaign.control == CampaignRecipient.objects.filter(campaign=campaign, variant__isnull=True).count()
    outcomes = run_parallel(lambda: sending.campaign_send_run(campaign_id=campaign.pk), [()] * 4)
    assert outcomes.count("done") == 1 and set(outcomes) <= {"done", "busy", "stopped"}
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.sent == 40 - campaign.control
    assert len(calls) == len(set(calls)) == campaign.sent
    assert MessageLog.objects.filter(key__startswith=f"campaign:{campaign.pk}:").count() == campaign.sent
