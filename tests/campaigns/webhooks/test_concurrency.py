"""PostgreSQL, real threads: two workers never send one delivery twice at once, and concurrent
registrations never pass the ten-endpoint limit."""

import pytest

from siyu.campaigns.webhooks import delivery as D
from siyu.campaigns.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from siyu.campaigns.webhooks.services import MAX_ENDPOINTS, endpoint_create
from siyu.core.errors import Conflict

from ...concurrency import run_parallel

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_delivery_claimed_by_one_worker(postgres_only, shop, owner, receiver):
    endpoint, _ = endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])
    event = WebhookEvent.objects.create(
        shop=shop, public_id="evt_c", type="order.paid", data={}, created_at=endpoint.created_at, source=1
    )
    delivery = WebhookDelivery.objects.create(
        shop=shop, public_id="dc", endpoint=endpoint, event=event, next_attempt_at=endpoint.created_at
    )
    outcomes = run_parallel(lambda: D.delivery_attempt(delivery_id=delivery.pk), [()] * 6)
    assert sorted(outcomes) == ["skipped"] * 5 + ["succeeded"]
    assert len(receiver.requests) == 1


def test_the_endpoint_limit_holds_under_concurrent_registration(postgres_only, shop, owner, receiver):
    for _ in range(MAX_ENDPOINTS - 2):
        endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])
    results = run_parallel(lambda: endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"]), [()] * 6)
    assert sum(isinstance(r, Conflict) for r in results) == 4
    assert WebhookEndpoint.objects.filter(shop=shop).count() == MAX_ENDPOINTS
