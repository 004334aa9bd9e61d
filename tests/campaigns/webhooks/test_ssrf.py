"""SSRF: in production settings only https URLs whose host resolves to public addresses are taken,
checked at registration and again on the addresses the worker connects to (DNS rebinding)."""

import socket

import pytest

from siyu.campaigns.webhooks import delivery as D
from siyu.campaigns.webhooks.guard import address_is_public, url_check
from siyu.campaigns.webhooks.models import WebhookDelivery
from siyu.campaigns.webhooks.services import endpoint_create
from siyu.core.errors import InvalidInput

from ...customers.member_steps import deliver_events
from ...orders.helpers import place

PUBLIC = "93.184.215.14"


@pytest.fixture
def production(settings):
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = False


def _resolving(monkeypatch, mapping: dict[str, list[str]]):
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host in mapping:
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in mapping[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "240.0.0.1",
    ],
)
def test_non_public_addresses(address):
    assert not address_is_public(address)


def test_public_addresses():
    assert address_is_public(PUBLIC) and address_is_public("2606:4700::1111")


@pytest.mark.parametrize("url", ["https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://169.254.169.254/latest"])
def test_literal_private_addresses_are_refused(production, url):
    with pytest.raises(InvalidInput) as refused:
        url_check(url)
    assert "url" in refused.value.detail


def test_ipv6_literals_are_not_urls_we_take(production):
    with pytest.raises(InvalidInput):
        url_check("https://[::1]/hook")


@pytest.mark.parametrize("address", ["127.0.0.1", "10.9.8.7", "169.254.169.254", "::1"])
def test_a_name_resolving_to_a_private_address_is_refused(production, monkeypatch, address):
    _resolving(monkeypatch, {"erp.example.com": [address]})
    with pytest.raises(InvalidInput):
        url_check("https://erp.example.com/hook")


def test_one_private_address_among_public_ones_is_enough_to_refuse(production, monkeypatch):
    _resolving(monkeypatch, {"erp.example.com": [PUBLIC, "10.0.0.1"]})
    with pytest.raises(InvalidInput):
        url_check("https://erp.example.com/hook")


def test_a_public_https_url_is_taken(production, monkeypatch):
    _resolving(monkeypatch, {"erp.example.com": [PUBLIC]})
    assert url_check("https://erp.example.com:8443/hook?x=1") == "https://erp.example.com:8443/hook?x=1"


def test_http_is_refused_in_production(production, monkeypatch):
    _resolving(monkeypatch, {"erp.example.com": [PUBLIC]})
    with pytest.raises(InvalidInput) as refused:
        url_check("http://erp.example.com/hook")
    assert refused.value.detail == {"url": "https only"}


@pytest.mark.parametrize("url", ["ftp://x.com/", "https://user:pw@x.com/", "https://x.com/\u4e2d", "x.com", "https://"])
def test_malformed_urls(url):
    with pytest.raises(InvalidInput):
        url_check(url)


def test_development_allows_loopback_http(settings):
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = True
    assert url_check("http://127.0.0.1:8000/hook") == "http://127.0.0.1:8000/hook"


def test_rebinding_is_caught_when_connecting(settings, monkeypatch, shop, owner, shopper, address, product, receiver):
    """Public at registration, loopback when sending: the worker refuses to connect."""
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = False
    port = receiver.server.server_address[1]
    _resolving(monkeypatch, {"hooks.example.com": [PUBLIC]})
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is plain http; only the scheme rule is eased
    endpoint, _ = endpoint_create(actor=owner, shop=shop, url=f"http://hooks.example.com:{port}/hooks", events=["*"])
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = False
    place(shop, shopper, address, product)
    deliver_events()
    delivery = WebhookDelivery.objects.get(event__type="order.placed")
    _resolving(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    assert D.delivery_attempt(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert "non-public" in delivery.last_error and delivery.last_status_code is None
    assert receiver.requests == []  # nothing reached the loopback receiver
    # The same delivery goes through once private addresses are allowed (development): the refusal
    # above was the guard, not the fake resolver.
    settings.SIYU_WEBHOOKS_ALLOW_PRIVATE = True
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    assert D.delivery_attempt(delivery_id=delivery.pk) == "succeeded"
    assert len(receiver.requests) == 1
