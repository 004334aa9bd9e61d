"""A campaign from draft to done: snapshot, holdout never messaged, variants, sends, retries,
a worker restart that sends nobody twice, cancel, coupons at send time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.campaigns.channels import sending as channel_sending
from siyu.campaigns.channels.models import ChannelSettings, MessageLog
from siyu.campaigns.outreach import sending
from siyu.campaigns.outreach.models import Campaign, CampaignRecipient
from siyu.campaigns.outreach.prepare import campaign_prepare_run, deal
from siyu.campaigns.outreach.services import campaign_cancel, campaign_update
from siyu.core.errors import Conflict, InvalidInput, PermissionDenied

from .conftest import draft, make_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider_calls(monkeypatch):
    calls = []
    real = channel_sending.BACKENDS["log"]

    def counting(**kwargs):
        calls.append(kwargs["recipient"].address)
        return real(**kwargs)

    monkeypatch.setitem(channel_sending.BACKENDS, "log", counting)
    return calls


def test_start_now_prepares_and_sends(start, owner, shop, pool, segment, provider_calls):
    make_pool(shop, 3, consent=False)  # in the city, never in the audience
    campaign = draft(owner, shop, segment)
    start(owner, shop, campaign)  # the worker runs at once in tests
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.prepared == 40
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    control = rows.filter(variant__isnull=True)
    assert control.count() == campaign.control and set(control.values_list("status", flat=True)) <= {"control"}
    treated = rows.filter(variant__isnull=False)
    assert treated.count() == campaign.sent == 40 - campaign.control
    assert sorted(provider_calls) == sorted(treated.values_list("customer__public_id", flat=True))
    # every customer is dealt by the stored seed, reproducibly
    for row in rows.select_related("variant"):
        group = deal(seed=campaign.seed, customer_id=row.customer_id, holdout_bp=2000, variants=2)
        assert group == (None if row.variant is None else row.variant.index)
    log = MessageLog.objects.get(key=f"campaign:{campaign.pk}:{treated.first().customer_id}:log")
    assert log.status == "sent" and log.cost_fen == 5
    assert sum(rows.values_list("cost_fen", flat=True)) == 5 * campaign.sent


@pytest.mark.parametrize("holdout", [0, 1000, 5000])
def test_holdout_is_never_messaged(start, owner, shop, pool, segment, holdout):
    for _round in range(3):
        campaign = draft(owner, shop, segment, holdout_bp=holdout)
        start(owner, shop, campaign)
        control = set(
            CampaignRecipient.objects.filter(campaign=campaign, variant__isnull=True).values_list(
                "customer_id", flat=True
            )
        )
        messaged = set(
            MessageLog.objects.filter(key__startswith=f"campaign:{campaign.pk}:").values_list("customer_id", flat=True)
        )
        assert not control & messaged
        assert len(control) + len(messaged) == 40
        if holdout == 0:
            assert not control


def test_split_is_roughly_the_shares(owner, shop, segment):
    campaign = draft(owner, shop, segment, holdout_bp=1000)
    groups = [deal(seed=campaign.seed, customer_id=i, holdout_bp=1000, variants=2) for i in range(1, 20001)]
    share = groups.count(None) / len(groups)
    assert 0.09 < share < 0.11
    assert abs(groups.count(0) - groups.count(1)) < 0.05 * len(groups)


def test_worker_restart_sends_nobody_twice(start, owner, shop, pool, segment, provider_calls, monkeypatch):
    campaign = draft(owner, shop, segment)
    monkeypatch.setattr("siyu.campaigns.outreach.tasks.campaign_send_task", lambda pk: None)
    monkeypatch.setattr("siyu.campaigns.outreach.prepare._enqueue_send", lambda pk: None)
    start(owner, shop, campaign)
    campaign.refresh_from_db()
    assert campaign.status == "sending"

    def crash(*args, **kwargs):
        raise SystemExit("worker killed after the provider calls, before settling")

    monkeypatch.setattr(sending, "_settle", crash)
    with pytest.raises(SystemExit):
        sending.campaign_send_run(campaign_id=campaign.pk)
    first = len(provider_calls)
    assert first > 0 and CampaignRecipient.objects.filter(campaign=campaign, status="sending").count() == first
    monkeypatch.undo()  # settling works again; the counting backend is re-installed below
    calls = []
    real = channel_sending.BACKENDS["log"]
    monkeypatch.setitem(channel_sending.BACKENDS, "log", lambda **kw: calls.append(1) or real(**kw))
    # another worker while the lease is live: busy
    assert sending.campaign_send_run(campaign_id=campaign.pk) == "busy"
    later = timezone.now() + sending.LEASE + timedelta(seconds=5)
    assert sending.campaign_send_run(campaign_id=campaign.pk, now_fn=lambda: later) == "done"
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.sent == 40 - campaign.control
    assert len(calls) == 0  # the first worker had sent everyone; the channel answered the first results
    assert MessageLog.objects.filter(key__startswith=f"campaign:{campaign.pk}:", status="sent").count() == campaign.sent


def test_failures_retry_with_backoff_then_give_up(start, owner, shop, pool, segment, monkeypatch):
    from siyu.campaigns.channels.backends import ChannelError

    def broken(**kwargs):
        raise ChannelError("provider down")

    monkeypatch.setitem(channel_sending.BACKENDS, "log", broken)
    campaign = draft(owner, shop, segment)
    start(owner, shop, campaign)
    campaign.refresh_from_db()
    assert campaign.status == "sending" and campaign.failed == 0
    row = CampaignRecipient.objects.filter(campaign=campaign, variant__isnull=False).first()
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > timezone.now()
    for step in range(1, 8):
        later = timezone.now() + timedelta(hours=7 * step)
        sending.campaign_send_run(campaign_id=campaign.pk, now_fn=lambda at=later: at)
    campaign.refresh_from_db()
    assert campaign.status == "done" and campaign.failed == 40 - campaign.control and campaign.sent == 0
    row.refresh_from_db()
    assert row.attempts == sending.MAX_ATTEMPTS and row.status == "failed"


def test_quiet_hours_wait_without_using_attempts(start, owner, shop, pool, segment):
    ChannelSettings.objects.filter(shop=shop).update(quiet_start=0, quiet_end=24 * 60 - 1)
    campaign = draft(owner, shop, segment)
    start(owner, shop, campaign)
    row = CampaignRecipient.objects.filter(campaign=campaign, variant__isnull=False).first()
    assert row.status == "pending" and row.attempts == 0 and row.reason == "quiet_hours"
    assert row.next_attempt_at > timezone.now()


def test_cancel_stops_sending(start, owner, shop, pool, segment, monkeypatch):
    monkeypatch.setattr("siyu.campaigns.outreach.prepare._enqueue_send", lambda pk: None)
    campaign = draft(owner, shop, segment)
    start(owner, shop, campaign)
    campaign_cancel(actor=owner, shop=shop, public_id=campaign.public_id, why="wrong text")
    assert sending.campaign_send_run(campaign_id=campaign.pk) == "stopped"
    assert not MessageLog.objects.filter(key__startswith=f"campaign:{campaign.pk}:").exists()
    with pytest.raises(Conflict):
        campaign_cancel(actor=owner, shop=shop, public_id=campaign.public_id)


def test_scheduled_waits_for_its_time(start, owner, shop, pool, segment):
    campaign = draft(owner, shop, segment)
    at = timezone.now() + timedelta(hours=2)
    start(owner, shop, campaign, at=at)
    assert campaign_prepare_run(campaign_id=campaign.pk) is None
    campaign.refresh_from_db()
    assert campaign.status == "scheduled" and campaign.prepared == 0
    with pytest.raises(Conflict):
        campaign_update(actor=owner, shop=shop, public_id=campaign.public_id, data={})


def test_snapshot_is_fixed_when_preparing_begins(start, owner, shop, pool, segment, monkeypatch):
    monkeypatch.setattr("siyu.campaigns.outreach.prepare.BATCH", 10)
    monkeypatch.setattr("siyu.campaigns.outreach.prepare._enqueue_send", lambda pk: None)
    campaign = draft(owner, shop, segment)
    real = __import__("siyu.campaigns.outreach.prepare", fromlist=["prepare_batch"]).prepare_batch
    joined = []

    def batch_then_join(campaign, variant_ids):
        if not joined:
            joined.extend(make_pool(shop, 5))  # customers who arrive while preparing
        return real(campaign, variant_ids)

    monkeypatch.setattr("siyu.campaigns.outreach.prepare.prepare_batch", batch_then_join)
    start(owner, shop, campaign)
    campaign.refresh_from_db()
    assert campaign.prepared == 40 and campaign.status == "sending"
    assert not CampaignRecipient.objects.filter(campaign=campaign, customer__in=joined).exists()


def test_rules_and_permissions(owner, operator, shop, other_shop, pool, segment):
    with pytest.raises(InvalidInput) as bad:
        draft(owner, shop, segment, variants=[{"text": "{name} {phone}"}])
    assert "variants.0.text" in bad.value.detail
    for wrong in ({"variants": []}, {"variants": [{"text": "x"}] * 5}, {"holdout_bp": 6000}, {"channel": "fax"}):
        with pytest.raises(InvalidInput):
            draft(owner, shop, segment, **wrong)
    with pytest.raises(InvalidInput):
        draft(owner, shop, segment, variants=[{"text": "{name"}])
    from ...factories import make_staff

    stranger = make_staff(other_shop, username="stranger")
    with pytest.raises(PermissionDenied):
        draft(stranger, shop, segment)
    assert Campaign.objects.count() == 0
