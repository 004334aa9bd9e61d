"""Campaign events: campaign.started when sending begins, campaign.finished with the final counts
when the last message is settled or a started campaign is cancelled; signed like every event."""

import json
import time

import pytest

from siyu.campaigns.outreach import prepare
from siyu.campaigns.outreach.models import Campaign
from siyu.campaigns.outreach.prepare import campaign_prepare_run
from siyu.campaigns.outreach.services import campaign_cancel, campaign_start
from siyu.campaigns.webhooks import delivery as D
from siyu.campaigns.webhooks.models import WebhookDelivery, WebhookEvent
from siyu.campaigns.webhooks.services import endpoint_create
from siyu.campaigns.webhooks.signing import signature_verify
from siyu.core.models import OutboxEvent
from siyu.customers.segments import segment_save

from ...customers.member_steps import deliver_events
from ..outreach.conftest import CITY, channels_on, draft, make_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(owner, shop):
    channels_on(shop)
    make_pool(shop, 12)
    return segment_save(actor=owner, shop=shop, name="杭州老客", rules=CITY)


def test_started_and_finished_reach_the_receiver_signed(
    owner, shop, segment, receiver, django_capture_on_commit_callbacks
):
    endpoint, secret = endpoint_create(
        actor=owner, shop=shop, url=receiver.url, events=["campaign.started", "campaign.finished"]
    )
    campaign = draft(owner, shop, segment)
    with django_capture_on_commit_callbacks(execute=True):
        campaign_start(actor=owner, shop=shop, public_id=campaign.public_id)
    while deliver_events():
        pass
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == "done"
    (started,) = WebhookEvent.objects.filter(type="campaign.started").values_list("data", flat=True)
    assert started["campaign"]["id"] == campaign.public_id and started["campaign"]["status"] == "sending"
    assert started["campaign"]["recipients"] == 12 and started["campaign"]["control"] == campaign.control
    assert "messages" not in started["campaign"]
    (finished,) = WebhookEvent.objects.filter(type="campaign.finished").values_list("data", flat=True)
    data = finished["campaign"]
    assert data["status"] == "done" and data["finished_at"]
    assert data["messages"] == {"pending": 0, "sending": 0, "sent": 12 - campaign.control, "failed": 0, "refused": 0}
    assert data["recipients"] == 12 and data["control"] == campaign.control
    # delivered like any event: the envelope, the same id in the header, the signature
    for delivery in WebhookDelivery.objects.filter(endpoint=endpoint, status="pending"):
        D.delivery_attempt(delivery_id=delivery.pk)  # the worker's job, where the fan-out left it due
    assert set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {"succeeded"}
    assert len(receiver.requests) == 2
    types = []
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        assert signature_verify(secret=secret, header=headers["Siyu-Signature"], body=body, now=int(time.time()))
        envelope = json.loads(body)
        assert envelope["id"] == headers["Siyu-Event-Id"]
        types.append(envelope["type"])
    assert sorted(types) == ["campaign.finished", "campaign.started"]


def test_a_started_campaign_cancelled_finishes_with_its_counts(owner, shop, segment, monkeypatch):
    monkeypatch.setattr(prepare, "_enqueue_send", lambda campaign_id: None)  # sending never runs
    campaign = draft(owner, shop, segment)
    campaign_start(actor=owner, shop=shop, public_id=campaign.public_id)
    campaign_prepare_run(campaign_id=campaign.pk)
    campaign_cancel(actor=owner, shop=shop, public_id=campaign.public_id, why="写错了")
    topics = list(
        OutboxEvent.objects.filter(topic__startswith="campaign.").order_by("pk").values_list("topic", "payload")
    )
    assert [t for t, _p in topics] == ["campaign.started", "campaign.finished"]
    finished = topics[1][1]["campaign"]
    assert finished["status"] == "cancelled"
    assert finished["messages"]["pending"] == 12 - finished["control"] and finished["messages"]["sent"] == 0


def test_a_draft_cancelled_before_it_started_tells_nobody(owner, shop, segment):
    campaign = draft(owner, shop, segment)
    campaign_cancel(actor=owner, shop=shop, public_id=campaign.public_id)
    assert not OutboxEvent.objects.filter(topic__startswith="campaign.").exists()


def test_campaign_topics_can_be_subscribed_through_the_api(owner_api, receiver):
    body = {"url": receiver.url, "events": ["campaign.started", "campaign.finished"]}
    response = owner_api.post("/api/v1/console/webhooks", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert sorted(response.json()["events"]) == ["campaign.finished", "campaign.started"]
