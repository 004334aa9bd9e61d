"""The console API: register (secret once), list, disable/enable, rotate, delete, deliveries, resend;
validation, the limit, permissions, tenancy and query counts."""

import pytest

from siyu.accounts.roles import FINANCE, OPERATOR, SERVICE
from siyu.accounts.services import token_issue
from siyu.campaigns.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from siyu.campaigns.webhooks.services import MAX_ENDPOINTS, endpoint_create
from siyu.core import crypto

from ...factories import make_staff
from .conftest import staff_api

API = "/api/v1/console/webhooks"


def _post(client, path, body=None, **extra):
    return client.post(path, body if body is not None else {}, content_type="application/json", **extra)


def test_register_answers_201_with_the_secret_once(owner_api, receiver):
    response = _post(owner_api, API, {"url": receiver.url, "events": ["order.paid", "order.placed", "order.paid"]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["status"] == "enabled"
    assert body["events"] == ["order.placed", "order.paid"]  # known order, no repeats
    stored = WebhookEndpoint.objects.get(public_id=body["id"])
    assert stored.secret == body["secret"]  # usable for signing
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [stored.pk])
        raw = cursor.fetchone()[0]
    assert body["secret"] not in raw and crypto.decrypt(raw) == body["secret"]  # encrypted at rest
    listed = owner_api.get(API).json()
    assert [e["id"] for e in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in owner_api.get(f"{API}/{body['id']}").json()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "https://x.example.com/h", "events": ["order.exploded"]}, "events"),
        ({"url": "https://x.example.com/h", "events": []}, "events"),
        ({"url": "https://x.example.com/h"}, "events"),
        ({"url": "https://x.example.com/h", "events": ["*"], "extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_clear_400(owner_api, body, field):
    response = _post(owner_api, API, body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input" and field in response.content.decode()


def test_production_refuses_http_and_private_hosts_with_400(owner_api, settings):
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = False
    for url in ("http://erp.example.com/h", "https://127.0.0.1/h", "https://10.0.0.1/h"):
        response = _post(owner_api, API, {"url": url, "events": ["*"]})
        assert response.status_code == 400 and "url" in response.json()["detail"], url


def test_at_most_ten_endpoints_per_shop(owner_api, shop, owner, receiver):
    for _ in range(MAX_ENDPOINTS):
        endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])
    response = _post(owner_api, API, {"url": receiver.url, "events": ["*"]})
    assert response.status_code == 409 and response.json()["code"] == "webhook_limit"


def test_disable_enable_rotate_delete(owner_api, endpoint_and_secret):
    endpoint, secret = endpoint_and_secret
    path = f"{API}/{endpoint.public_id}"
    assert _post(owner_api, f"{path}/disable").json()["status"] == "disabled"
    assert _post(owner_api, f"{path}/enable").json()["status"] == "enabled"
    rotated = _post(owner_api, f"{path}/rotate-secret?grace_hours=2")
    assert rotated.status_code == 201 and rotated.json()["secret"] not in ("", secret)
    assert rotated.json()["previous_secret_until"] is not None
    assert _post(owner_api, f"{path}/rotate-secret?grace_hours=99").status_code == 400
    assert owner_api.delete(path).status_code == 204
    assert owner_api.get(path).status_code == 404


def test_deliveries_and_resend(owner_api, endpoint, shop, receiver):
    event = WebhookEvent.objects.create(
        shop=shop,
        public_id="evt_x",
        type="order.paid",
        data={"order": {"id": "o1"}},
        created_at=endpoint.created_at,
        source=1,
    )
    delivery = WebhookDelivery.objects.create(
        shop=shop, public_id="d1", endpoint=endpoint, event=event, status="failed", attempts=8
    )
    page = owner_api.get(f"{API}/{endpoint.public_id}/deliveries?status=failed").json()
    assert page["count"] == 1 and page["items"][0]["event_id"] == "evt_x" and page["items"][0]["attempts"] == 8
    assert owner_api.get(f"{API}/{endpoint.public_id}/deliveries?status=succeeded").json()["count"] == 0
    response = _post(owner_api, f"{API}/{endpoint.public_id}/deliveries/d1/resend")
    assert response.status_code == 202, response.content
    delivery.refresh_from_db()
    # on_commit does not run inside the test's transaction: it waits, due now, for one more try.
    assert delivery.status == "pending" and delivery.max_attempts == 9
    assert _post(owner_api, f"{API}/{endpoint.public_id}/deliveries/nope/resend").status_code == 404


@pytest.mark.parametrize("role", [OPERATOR, SERVICE, FINANCE])
def test_only_owners_manage_webhooks(client, shop, owner, role, endpoint, receiver):
    api = staff_api(client, shop, role)
    assert api.get(API).status_code == 403
    assert api.get(f"{API}/{endpoint.public_id}").status_code == 403
    assert _post(api, API, {"url": receiver.url, "events": ["*"]}).status_code == 403
    assert _post(api, f"{API}/{endpoint.public_id}/disable").status_code == 403
    assert _post(api, f"{API}/{endpoint.public_id}/rotate-secret").status_code == 403
    assert api.delete(f"{API}/{endpoint.public_id}").status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.status == "enabled"


def test_another_shops_webhooks_are_invisible(client, other_shop, endpoint):
    other = make_staff(other_shop, username="otherboss")
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=other_shop, staff=other, name="t")[1]
    other_api = "/s/other/api/v1/console/webhooks"
    assert client.get(other_api).json() == []
    for path in ("", "/deliveries"):
        assert client.get(f"{other_api}/{endpoint.public_id}{path}").status_code == 404
    assert _post(client, f"{other_api}/{endpoint.public_id}/disable").status_code == 404
    assert client.delete(f"{other_api}/{endpoint.public_id}").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.status == "enabled"


SHOP, TOKEN = 1, 1


@pytest.mark.parametrize("n", [2, 10])
def test_list_query_count(owner_api, shop, owner, receiver, n, django_assert_num_queries):
    for _ in range(n):
        endpoint_create(actor=owner, shop=shop, url=receiver.url, events=["*"])
    with django_assert_num_queries(SHOP + TOKEN + 1):
        assert len(owner_api.get(API).json()) == n


@pytest.mark.parametrize("n", [5, 30])
def test_deliveries_query_count(owner_api, shop, endpoint, n, django_assert_num_queries):
    events = WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                shop=shop, public_id=f"evt_{i}", type="order.paid", data={}, created_at=endpoint.created_at, source=i
            )
            for i in range(n)
        ]
    )
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(shop=shop, public_id=f"d{i}", endpoint=endpoint, event=e) for i, e in enumerate(events)]
    )
    with django_assert_num_queries(SHOP + TOKEN + 1 + 2):  # endpoint, count + page
        page = owner_api.get(f"{API}/{endpoint.public_id}/deliveries?limit=100").json()
    assert page["count"] == n and len(page["items"]) == n
