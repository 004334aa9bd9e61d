"""Inbound "TD" replies: the providers' callbacks (Aliyun SmsUp batch push, Tencent Cloud reply
callback) unsubscribe the customer who replied TD/T/N/退订; the token is checked; retries are no-ops;
bad input is a 4xx in the provider's answer format, never a 500."""

import json

import pytest
from django.utils import timezone

from siyu.campaigns.channels import config
from siyu.campaigns.channels.models import Unsubscribe
from siyu.campaigns.channels.sms_replies import is_stop_reply
from siyu.core.crypto import lookup_hash
from siyu.core.ids import public_id
from siyu.customers.models import Customer, CustomerEvent

pytestmark = pytest.mark.django_db

TOKEN = "reply-token-0123456789"
URL = "/sms/replies/{}/?token=" + TOKEN


def person(shop, phone: str) -> Customer:
    return Customer.objects.create(
        shop=shop,
        public_id=public_id(12),
        phone=phone,
        phone_hash=lookup_hash(phone),
        marketing_consent_at=timezone.now(),
    )


@pytest.fixture
def token(shop, owner):
    config.channel_settings_update(
        actor=owner, shop=shop, data={"channels": [{"channel": "sms", "credentials": {"inbound_token": TOKEN}}]}
    )
    return TOKEN


def aliyun(*replies: tuple[str, str]) -> bytes:
    """An Aliyun SmsUp HTTP batch push: a JSON list of the users' replies."""
    return json.dumps(
        [
            {
                "phone_number": phone,
                "send_time": "2026-12-07 10:15:02",
                "content": text,
                "sign_name": "私域优选",
                "dest_code": "1234",
                "sequence_id": 9000 + i,
            }
            for i, (phone, text) in enumerate(replies)
        ],
        ensure_ascii=False,
    ).encode()


def tencent(phone: str, text: str, nation: str = "86") -> bytes:
    """A Tencent Cloud SMS reply callback: one reply per request."""
    body = {"extend": "", "mobile": phone, "nationcode": nation, "sign": "私域优选", "text": text, "time": 1765100102}
    return json.dumps(body, ensure_ascii=False).encode()


@pytest.mark.parametrize("text", ["TD", "td", " t d ", "T", "n", "退订", "退 订", "ＴＤ", "TD。", "td!"])
def test_stop_words(text):
    assert is_stop_reply(text)


@pytest.mark.parametrize("text", ["", "TDD", "好的", "不要退订", "STOP", "退订吗?", "1"])
def test_other_replies_are_not_stop_words(text):
    assert not is_stop_reply(text)


def test_aliyun_batch_unsubscribes_those_who_said_td(client, shop, token):
    a, b, c = person(shop, "13800138000"), person(shop, "13800138001"), person(shop, "13800138002")
    body = aliyun(
        ("13800138000", "TD"), ("8613800138001", "好的谢谢"), ("+8613800138002", " 退订 "), ("13911112222", "TD")
    )
    response = client.post(URL.format("aliyun"), body, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "成功"}
    for customer in (a, b, c):
        customer.refresh_from_db()
    assert a.marketing_consent_at is None and c.marketing_consent_at is None
    assert b.marketing_consent_at is not None
    assert set(Unsubscribe.objects.values_list("customer_id", "via")) == {(a.pk, "sms"), (c.pk, "sms")}


def test_tencent_reply_unsubscribes_once_however_often_it_arrives(client, shop, token):
    customer = person(shop, "13800138000")
    for _i in range(3):  # the provider retries; the customer replies again
        response = client.post(URL.format("tencent"), tencent("13800138000", "td"), content_type="application/json")
        assert response.status_code == 200 and response.json() == {"result": 0, "errmsg": "OK"}
    customer.refresh_from_db()
    assert customer.marketing_consent_at is None
    assert CustomerEvent.objects.filter(customer=customer, kind="consent").count() == 1
    assert Unsubscribe.objects.get(customer=customer).via == "sms"


def test_the_token_may_come_in_a_header(client, shop, token):
    customer = person(shop, "13800138000")
    response = client.post(
        "/sms/replies/tencent/",
        tencent("13800138000", "N"),
        content_type="application/json",
        headers={"Siyu-Token": TOKEN},
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.marketing_consent_at is None


def test_replies_reach_only_the_shop_in_the_url(client, shop, other_shop, owner, token):
    ours = person(shop, "13800138000")
    theirs = person(other_shop, "13800138000")
    client.post(URL.format("tencent"), tencent("13800138000", "TD"), content_type="application/json")
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.marketing_consent_at is None and theirs.marketing_consent_at is not None
    # the other shop set no token: its door is closed
    response = client.post(
        f"/s/{other_shop.slug}/sms/replies/tencent/?token={TOKEN}",
        tencent("13800138000", "TD"),
        content_type="application/json",
    )
    assert response.status_code == 404 and response.json()["result"] != 0


def test_foreign_numbers_are_ignored(client, shop, token):
    customer = person(shop, "13800138000")
    response = client.post(
        URL.format("tencent"), tencent("13800138000", "TD", nation="852"), content_type="application/json"
    )
    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.marketing_consent_at is not None


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/sms/replies/tencent/", 403),  # no token
        ("/sms/replies/tencent/?token=wrong", 403),
        ("/sms/replies/fax/?token=" + TOKEN, 404),
    ],
)
def test_wrong_callers_are_refused(client, shop, token, url, status):
    customer = person(shop, "13800138000")
    response = client.post(url, tencent("13800138000", "TD"), content_type="application/json")
    assert response.status_code == status
    customer.refresh_from_db()
    assert customer.marketing_consent_at is not None


def test_no_token_configured_closes_the_door(client, shop):
    person(shop, "13800138000")
    response = client.post("/sms/replies/aliyun/?token=x", aliyun(("13800138000", "TD")), content_type="text/plain")
    assert response.status_code == 404 and response.json() == {"code": 1, "msg": "not_found"}


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("aliyun", b"not json"),
        ("aliyun", b'{"foo": 1}'),
        ("aliyun", b"[1, 2]"),
        ("aliyun", b"\xff\xfe"),
        ("tencent", b"[]"),
        ("tencent", b'{"mobile": "13800138000"}'),
        ("tencent", b""),
    ],
)
def test_malformed_bodies_are_a_400(client, shop, token, provider, body):
    response = client.post(URL.format(provider), body, content_type="application/json")
    assert response.status_code == 400


def test_get_is_not_allowed(client, shop, token):
    assert client.get(URL.format("tencent")).status_code == 405


def test_the_token_is_a_secret_in_the_settings(shop, owner, token):
    from siyu.campaigns.channels.selectors import channel_settings_view

    sms = next(c for c in channel_settings_view(actor=owner, shop=shop)["channels"] if c["channel"] == "sms")
    assert sms["credentials_set"] == ["inbound_token"] and TOKEN not in json.dumps(sms)
