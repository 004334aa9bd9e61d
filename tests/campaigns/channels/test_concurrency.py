"""Parallel sends on PostgreSQL: one key is sent once; the frequency cap holds across keys."""

import pytest

from siyu.campaigns.channels import sending
from siyu.campaigns.channels.api import Message, message_send
from siyu.campaigns.channels.models import MessageLog

from ...concurrency import run_parallel
from .conftest import NOON, make_customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def counted(monkeypatch):
    calls = []

    def provider(**kwargs):
        calls.append(kwargs["recipient"].address)
        return f"p{len(calls)}"

    monkeypatch.setitem(sending.BACKENDS, "log", provider)
    return calls


def test_same_key_in_parallel_calls_the_provider_once(postgres_only, shop, counted):
    customer = make_customer(shop)
    message = Message(channel="log", text="hi", key="campaign:1:x:log")
    results = run_parallel(lambda: message_send(shop=shop, customer=customer, message=message, now=NOON), [()] * 8)
    assert len(counted) == 1
    assert sum(r.status == "sent" for r in results) >= 1
    assert all(r.status == "sent" or r.reason == "in_progress" for r in results)
    assert MessageLog.objects.filter(key="campaign:1:x:log", status="sent").count() == 1


def test_frequency_cap_holds_under_parallel_campaigns(postgres_only, shop, counted):
    customer = make_customer(shop)
    keys = [(f"campaign:{i}:x:log",) for i in range(6)]
    results = run_parallel(
        lambda key: message_send(
            shop=shop, customer=customer, message=Message(channel="log", text="hi", key=key), now=NOON
        ),
        keys,
    )
    assert len(counted) == 2  # the default cap: 2 in 7 days
    assert sorted(r.reason for r in results if r.status != "sent") == ["frequency_cap"] * 4
