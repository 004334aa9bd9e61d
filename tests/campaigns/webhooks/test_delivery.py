"""Delivering: the envelope and signature, retries with the same id, back-off, auto-disable, resend,
rotation, at-least-once preparation. Against a local receiver thread, never the network."""

import json
import random
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from siyu.campaigns.webhooks import delivery as D
from siyu.campaigns.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from siyu.campaigns.webhooks.notices import owners_tell_disabled, webhook_notices
from siyu.campaigns.webhooks.services import delivery_resend, endpoint_enable, endpoint_rotate_secret
from siyu.campaigns.webhooks.signing import signature_verify
from siyu.core.events import event_dispatch
from siyu.core.models import OutboxEvent

from ...customers.member_steps import deliver_events
from ...orders.helpers import pay, place


@pytest.fixture
def paid(shop, shopper, address, product, endpoint):
    order = place(shop, shopper, address, product)
    pay(order)
    deliver_events()
    deliver_events()  # events recorded by the first round's handlers (customer.created)
    order.refresh_from_db()
    return order


def _delivery(topic="order.paid") -> WebhookDelivery:
    return WebhookDelivery.objects.select_related("event").get(event__type=topic)


def _due_now(delivery):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_paid_order_reaches_the_receiver_signed(paid, endpoint_and_secret, receiver):
    endpoint, secret = endpoint_and_secret
    assert sorted(WebhookEvent.objects.values_list("type", flat=True)) == [
        "customer.created",
        "order.paid",
        "order.placed",
    ]
    delivery = _delivery()
    assert D.delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    # The documented recipe: HMAC-SHA256(secret, "<t>.<raw body>") in hex, t recent.
    assert signature_verify(secret=secret, header=headers["Siyu-Signature"], body=body, now=int(time.time()))
    assert not signature_verify(secret="whsec_wrong", header=headers["Siyu-Signature"], body=body, now=int(time.time()))
    assert not signature_verify(secret=secret, header=headers["Siyu-Signature"], body=body + b" ", now=int(time.time()))
    envelope = json.loads(body)
    assert set(envelope) == {"id", "type", "created_at", "data"}
    assert envelope["type"] == "order.paid" and envelope["id"] == headers["Siyu-Event-Id"]
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == "Siyu-Webhooks/1"
    order = envelope["data"]["order"]
    assert order["id"] == paid.public_id and order["total"] == paid.total and order["status"] == "paid"
    assert envelope["data"]["amount"] == paid.total
    assert order["phone"] == "138****8000" and "文三路" not in body.decode()  # masked, no street address
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)


def test_a_500_is_retried_later_with_the_same_event_id(paid, receiver):
    receiver.answers = [500]
    delivery = _delivery()
    before = timezone.now()
    assert D.delivery_attempt(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    assert before + timedelta(minutes=1) <= delivery.next_attempt_at <= timezone.now() + timedelta(minutes=1.2)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "skipped"  # not due yet
    _due_now(delivery)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    first, second = receiver.requests
    assert first["headers"]["Siyu-Event-Id"] == second["headers"]["Siyu-Event-Id"] == delivery.event.public_id
    assert first["body"] == second["body"]


def test_a_timeout_is_retried_with_the_same_event_id(paid, receiver, monkeypatch):
    monkeypatch.setattr(D, "TIMEOUT_SECONDS", 0.3)
    receiver.answers = ["slow"]
    receiver.slow_seconds = 1.0
    delivery = _delivery()
    assert D.delivery_attempt(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.last_error == "timeout" and delivery.last_status_code is None and delivery.status == "pending"
    _due_now(delivery)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    ids = {r["headers"]["Siyu-Event-Id"] for r in receiver.requests}
    assert ids == {delivery.event.public_id}


def test_a_redirect_is_a_failure_and_is_not_followed(paid, receiver):
    receiver.answers = [302]
    delivery = _delivery()
    assert D.delivery_attempt(delivery_id=delivery.pk) == "retry"
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302


def test_back_off_schedule_spans_more_than_a_day_with_bounded_jitter():
    minutes = [d.total_seconds() / 60 for d in D.BACKOFF]
    assert minutes == [1, 5, 30, 120, 300, 600, 1440]
    assert sum(minutes) > 24 * 60 and D.MAX_ATTEMPTS == 8
    rand = random.Random(7)
    for attempt, base in enumerate(D.BACKOFF, start=1):
        delays = [D.backoff_delay(attempt, rand=rand) for _ in range(50)]
        assert all(base <= d <= base * 1.2 for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert D.backoff_delay(20, rand=rand) <= D.BACKOFF[-1] * 1.2


def test_after_the_last_try_the_delivery_is_failed(paid, receiver):
    receiver.default = 503
    delivery = _delivery()
    outcomes = []
    for _ in range(D.MAX_ATTEMPTS):
        _due_now(delivery)
        outcomes.append(D.delivery_attempt(delivery_id=delivery.pk))
    assert outcomes == ["retry"] * (D.MAX_ATTEMPTS - 1) + ["failed"]
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None and delivery.attempts == 8


def test_repeated_failure_disables_the_endpoint_and_tells_the_owner(paid, endpoint, receiver, owner, shop):
    owner.user.email = "boss@example.com"
    owner.user.save()
    receiver.default = 500
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=D.DISABLE_AFTER_FAILURES - 1)
    delivery = _delivery()
    assert D.delivery_attempt(delivery_id=delivery.pk) == "retry"
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled" and endpoint.disabled_reason == "failing"
    assert webhook_notices(shop=shop) == [endpoint]  # the console notice
    assert owners_tell_disabled(endpoint_id=endpoint.pk) == 1
    assert mail.outbox[-1].to == ["boss@example.com"] and endpoint.url in mail.outbox[-1].body
    # Disabled: nothing more is sent, and the due delivery waits.
    _due_now(delivery)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "skipped"
    assert D.deliveries_sweep() == 0
    assert len(receiver.requests) == 1
    receiver.default = 200
    endpoint_enable(actor=owner, shop=shop, endpoint_id=endpoint.public_id)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and webhook_notices(shop=shop) == []


def test_failing_for_three_days_disables_even_below_fifty(paid, endpoint, receiver):
    receiver.default = 500
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=3, failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    assert D.delivery_attempt(delivery_id=_delivery().pk) == "retry"
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"


def test_a_success_resets_the_failure_streak(paid, endpoint, receiver):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=49, failing_since=timezone.now())
    assert D.delivery_attempt(delivery_id=_delivery().pk) == "succeeded"
    endpoint.refresh_from_db()
    assert endpoint.status == "enabled" and endpoint.consecutive_failures == 0 and endpoint.failing_since is None


def test_resend_sends_a_delivered_event_again_with_the_same_id(paid, endpoint, receiver, owner, shop):
    delivery = _delivery()
    D.delivery_attempt(delivery_id=delivery.pk)
    receiver.default = 500
    delivery_resend(actor=owner, shop=shop, endpoint_id=endpoint.public_id, delivery_id=delivery.public_id)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "failed"  # one more try only, then done
    first, second = receiver.requests
    assert first["headers"]["Siyu-Event-Id"] == second["headers"]["Siyu-Event-Id"]
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.status == "failed"


def test_rotation_signs_with_both_secrets_during_the_grace_period(paid, endpoint_and_secret, receiver, owner, shop):
    endpoint, old = endpoint_and_secret
    endpoint, new = endpoint_rotate_secret(actor=owner, shop=shop, endpoint_id=endpoint.public_id, grace_hours=24)
    assert new != old and new.startswith("whsec_")
    D.delivery_attempt(delivery_id=_delivery().pk)
    request = receiver.requests[-1]
    header = request["headers"]["Siyu-Signature"]
    assert header.count("v1=") == 2
    for secret in (old, new):
        assert signature_verify(secret=secret, header=header, body=request["body"], now=int(time.time()))
    endpoint_rotate_secret(actor=owner, shop=shop, endpoint_id=endpoint.public_id, grace_hours=0)
    D.delivery_attempt(delivery_id=_delivery("order.placed").pk)
    header = receiver.requests[-1]["headers"]["Siyu-Signature"]
    assert header.count("v1=") == 1
    assert not signature_verify(secret=new, header=header, body=receiver.requests[-1]["body"], now=int(time.time()))


def test_the_grace_period_ends(paid, endpoint, owner, shop):
    endpoint, _new = endpoint_rotate_secret(actor=owner, shop=shop, endpoint_id=endpoint.public_id, grace_hours=1)
    assert len(D.signing_secrets(endpoint, timezone.now())) == 2
    assert len(D.signing_secrets(endpoint, timezone.now() + timedelta(hours=1, seconds=1))) == 1


def test_preparing_an_event_twice_makes_no_second_delivery(paid, endpoint):
    event = OutboxEvent.objects.get(topic="order.paid")
    count = WebhookDelivery.objects.count()
    D.webhooks_fan_out(event)  # the outbox is at-least-once: a handler may run again
    assert WebhookDelivery.objects.count() == count
    assert WebhookEvent.objects.filter(source=event.pk).count() == 1


def test_a_worker_that_died_mid_send_is_taken_back_by_the_sweep(paid, receiver):
    delivery = _delivery()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now() - D.CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    assert D.delivery_attempt(delivery_id=delivery.pk) == "skipped"  # claimed by the dead worker
    assert D.deliveries_sweep() == 3  # this one taken back, and the two others due (tasks run at once in tests)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert len(receiver.requests) == 3


def test_only_subscribed_events_and_enabled_endpoints_get_deliveries(shop, owner, shopper, address, product, receiver):
    from siyu.campaigns.webhooks.services import endpoint_create, endpoint_disable

    paid_only, _ = endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["order.paid"])
    off, _ = endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])
    endpoint_disable(actor=owner, shop=shop, endpoint_id=off.public_id)
    order = place(shop, shopper, address, product)
    pay(order)
    deliver_events()
    assert list(WebhookDelivery.objects.values_list("endpoint_id", "event__type")) == [(paid_only.pk, "order.paid")]


def test_a_shop_without_endpoints_costs_one_query(shop, shopper, address, product, django_assert_num_queries):
    place(shop, shopper, address, product)
    event = OutboxEvent.objects.get(topic="order.placed")
    with django_assert_num_queries(1):
        assert D.webhooks_fan_out(event) == 0


def test_the_worker_sends_after_the_outbox_commits(shop, owner, shopper, address, product, receiver, endpoint):
    """Through the real path: outbox dispatch, on_commit, the (immediate) task."""
    from django.test import TestCase

    order = place(shop, shopper, address, product)
    event = OutboxEvent.objects.get(topic="order.placed")
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert event_dispatch(event_id=event.pk)
    sent = {json.loads(r["body"])["type"]: json.loads(r["body"])["data"] for r in receiver.requests}
    assert sent["order.placed"]["order"]["id"] == order.public_id
