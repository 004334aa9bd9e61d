"""Console pages, API operations and the unsubscribe page."""

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from siyu.accounts.roles import FINANCE, OPERATOR
from siyu.accounts.services import token_issue
from siyu.campaigns.channels.api import Message, message_send
from siyu.campaigns.channels.models import ChannelAddress, ChannelConfig, MessageLog
from siyu.campaigns.channels.unsubscribe import unsubscribe_token, unsubscribe_url
from siyu.storefront.views_unsubscribe import unsubscribe

from ...factories import make_staff
from .conftest import NOON, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_api(client, shop, owner):
    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=shop, staff=owner, name="t")[1]
    return client


def test_api_get_and_put_settings(owner_api, shop):
    url = "/api/v1/console/channels/settings"
    body = owner_api.get(url).json()
    assert (body["quiet_start"], body["quiet_end"], body["cap_messages"], body["cap_days"]) == ("21:00", "09:00", 2, 7)
    sms = next(c for c in body["channels"] if c["channel"] == "sms")
    assert (sms["enabled"], sms["cost_fen"]) == (False, 5)
    change = {
        "quiet_start": "22:30",
        "cap_messages": 3,
        "channels": [{"channel": "wecom", "enabled": True, "credentials": {"corp_id": "ww1", "secret": "abc"}}],
    }
    response = owner_api.put(url, change, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["quiet_start"], body["quiet_end"], body["cap_messages"]) == ("22:30", "09:00", 3)
    wecom = next(c for c in body["channels"] if c["channel"] == "wecom")
    assert wecom["enabled"] and wecom["credentials_set"] == ["corp_id", "secret"]
    assert "abc" not in response.content.decode()
    # a partial change keeps the rest, and an empty credential removes it
    change = {"channels": [{"channel": "wecom", "cost_fen": 3, "credentials": {"secret": ""}}]}
    wecom = next(
        c
        for c in owner_api.put(url, change, content_type="application/json").json()["channels"]
        if c["channel"] == "wecom"
    )
    assert (wecom["enabled"], wecom["cost_fen"], wecom["credentials_set"]) == (True, 3, ["corp_id"])


@pytest.mark.parametrize(
    "body",
    [
        {"quiet_start": "25:00"},
        {"channels": [{"channel": "fax"}]},
        {"channels": [{"channel": "sms", "credentials": {"secret": "x"}}]},  # SMS takes no credentials
        {"cap_days": 0},
    ],
)
def test_api_bad_settings_are_400(owner_api, body):
    response = owner_api.put("/api/v1/console/channels/settings", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"]


def test_only_owners_change_settings(client, shop, owner):
    client.force_login(make_staff(shop, role=OPERATOR).user)
    url = "/api/v1/console/channels/settings"
    assert client.get(url).status_code == 200
    assert client.put(url, {"cap_messages": 5}, content_type="application/json").status_code == 403
    client.force_login(make_staff(shop, role=FINANCE).user)
    assert client.get(reverse("console:channel_settings")).status_code == 200  # finance views customers too


def test_console_settings_page_saves(staff_client, shop):
    url = reverse("console:channel_settings")
    page = staff_client.get(url)
    assert page.status_code == 200 and "sms-cost_fen" in page.content.decode()
    data = {"quiet_start": "21:00", "quiet_end": "08:00", "cap_messages": "2", "cap_days": "7"}
    for ch in ("log", "sms", "email", "wecom", "wechat_oa"):
        data |= {f"{ch}-cost_fen": "5" if ch == "sms" else "0", f"{ch}-rate_per_minute": "600"}
    data |= {"sms-enabled": "on", "log-enabled": "on", "email-cred-from_email": "shop@example.com"}
    response = staff_client.post(url, data)
    assert response.status_code == 302
    configs = {c.channel: c for c in ChannelConfig.objects.filter(shop=shop)}
    assert configs["sms"].enabled and not configs["wecom"].enabled
    assert shop.channel_settings.quiet_end == 8 * 60
    bad = staff_client.post(url, data | {"quiet_end": "8"})
    assert bad.status_code == 400


@pytest.mark.parametrize("n", [3, 12])
def test_console_message_log_query_count(staff_client, shop, n, django_assert_num_queries):
    for i in range(n):
        message_send(
            shop=shop, customer=make_customer(shop), message=Message(channel="log", text="hi", key=f"k{i}"), now=NOON
        )
    url = reverse("console:channel_messages")
    staff_client.get(url)
    with django_assert_num_queries(5):  # session, user, staff, count, page (customers joined)
        response = staff_client.get(url + "?channel=log&status=sent")
    assert response.content.decode().count("<code>k") == n


@pytest.mark.parametrize("n", [3, 12])
def test_api_message_log_query_count(owner_api, shop, n, django_assert_num_queries):
    for i in range(n):
        message_send(
            shop=shop, customer=make_customer(shop), message=Message(channel="log", text="hi", key=f"k{i}"), now=NOON
        )
    url = "/api/v1/console/channels/messages?limit=50"
    owner_api.get(url)
    with django_assert_num_queries(4):
        body = owner_api.get(url).json()
    assert body["count"] == n and {i["status"] for i in body["items"]} == {"sent"}


def test_console_settings_query_count(staff_client, django_assert_num_queries):
    url = reverse("console:channel_settings")
    staff_client.get(url)
    with django_assert_num_queries(5):
        staff_client.get(url)


def _page(shop, method: str, token: str):
    factory = RequestFactory()
    request = factory.post(f"/u/{token}/") if method == "post" else factory.get(f"/u/{token}/")
    request.shop = shop
    request._dont_enforce_csrf_checks = True
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request.user = AnonymousUser()
    request.session = SessionStore()
    return unsubscribe(request, token)


def test_unsubscribe_page_one_tap(shop, customer):
    token = unsubscribe_token(customer)
    assert unsubscribe_url(shop, customer).endswith(f"/u/{token}/")
    opened = _page(shop, "get", token)
    assert opened.status_code == 200 and 'method="post"' in opened.content.decode()
    customer.refresh_from_db()
    assert customer.marketing_consent_at is not None  # opening the link changes nothing
    done = _page(shop, "post", token)
    assert done.status_code == 200
    customer.refresh_from_db()
    assert customer.marketing_consent_at is None
    result = message_send(
        shop=shop, customer=customer, message=Message(channel="log", text="hi", key="after"), now=NOON
    )
    assert result.reason == "unsubscribed"


def test_tampered_unsubscribe_token_is_404(shop, customer):
    token = unsubscribe_token(customer)
    assert _page(shop, "post", token[:-2] + "xx").status_code == 404
    customer.refresh_from_db()
    assert customer.marketing_consent_at is not None


def test_email_needs_an_address_and_carries_the_unsubscribe_link(shop, customer, enable):
    enable("email")
    send = lambda key: message_send(  # noqa: E731
        shop=shop, customer=customer, message=Message(channel="email", subject="上新", text="春装", key=key), now=NOON
    )
    assert send("e1").reason == "no_address"
    ChannelAddress.objects.create(shop=shop, customer=customer, channel="email", address="li@example.com")
    assert send("e2").status == "sent"
    (sent,) = mail.outbox
    assert sent.to == ["li@example.com"] and sent.subject == "上新"
    assert f"/u/{unsubscribe_token(customer)}/" in sent.body


def test_refusals_are_logged_with_reasons(shop):
    quiet = make_customer(shop, consent=False)
    message_send(shop=shop, customer=quiet, message=Message(channel="log", text="hi", key="q"), now=timezone.now())
    row = MessageLog.objects.get(key="q")
    assert (row.status, row.reason, row.cost_fen) == ("refused", "no_consent", 0)
