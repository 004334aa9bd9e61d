from datetime import timedelta

import pytest
from django.core.cache import cache

from siyu.accounts import sms
from siyu.campaigns.channels import api, sending
from siyu.campaigns.channels.api import Message, message_allowed, message_send
from siyu.campaigns.channels.models import MessageLog
from siyu.campaigns.channels.unsubscribe import unsubscribe_by_token, unsubscribe_token
from siyu.core.errors import InvalidInput

from .conftest import NOON, make_customer

pytestmark = pytest.mark.django_db


def send(shop, customer, key="campaign:1:c:log", channel="log", now=NOON, **kw):
    return message_send(
        shop=shop, customer=customer, message=Message(channel=channel, text="春季上新", key=key, **kw), now=now
    )


def test_log_send_records_the_message_with_an_unsubscribe_link(shop, customer, log_outbox):
    result = send(shop, customer)
    assert result.status == "sent" and result.cost_fen == 0
    address, text = log_outbox[-1]
    assert address == customer.public_id
    assert text.startswith("春季上新")
    assert f"/u/{unsubscribe_token(customer)}/" in text
    row = MessageLog.objects.get(shop=shop, key="campaign:1:c:log")
    assert (row.status, row.customer_id, row.channel) == ("sent", customer.pk, "log")
    assert row.sent_at is not None


def test_no_consent_is_refused_and_nothing_sent(shop, log_outbox):
    stranger = make_customer(shop, consent=False)
    assert message_allowed(shop=shop, customer=stranger, channel="log", now=NOON) == (False, "no_consent")
    result = send(shop, stranger)
    assert (result.status, result.reason) == ("refused", "no_consent")
    assert log_outbox == []


def test_unsubscribe_link_withdraws_consent_and_blocks_later_sends(shop, customer, log_outbox):
    assert send(shop, customer, key="a").status == "sent"
    unsubscribe_by_token(token=unsubscribe_token(customer))
    customer.refresh_from_db()
    assert customer.marketing_consent_at is None
    assert customer.events.filter(kind="consent", data__marketing=False).exists()
    result = send(shop, customer, key="b")
    assert (result.status, result.reason) == ("refused", "unsubscribed")
    assert len(log_outbox) == 1


def test_sms_text_ends_with_the_td_reply(shop, customer, enable):
    enable("sms")
    sms.outbox.clear()
    result = send(shop, customer, channel="sms", key="k-sms", link="https://s.example/go/ab12")
    assert result.status == "sent" and result.cost_fen == 5
    phone, text = sms.outbox[-1]
    assert phone == "13900001111"
    assert text == "春季上新 https://s.example/go/ab12 回复TD退订"
    assert api.channel_cost(shop=shop, channel="sms") == 5


def test_a_channel_not_turned_on_is_refused(shop, customer):
    assert send(shop, customer, channel="sms").reason == "channel_off"


@pytest.mark.parametrize("hour,quiet", [(20, False), (21, True), (23, True), (3, True), (8, True), (9, False)])
def test_quiet_hours_default_21_to_9(shop, customer, hour, quiet):
    now = NOON.replace(hour=hour)
    allowed, reason = message_allowed(shop=shop, customer=customer, channel="log", now=now)
    assert (not allowed and reason == "quiet_hours") is quiet
    if quiet:
        resume = api.next_send_time(shop=shop, now=now)
        assert resume.hour == 9 and resume.minute == 0 and resume > now


def test_quiet_hours_refusal_is_retried_with_the_same_key(shop, customer, log_outbox):
    night = NOON.replace(hour=22)
    assert send(shop, customer, key="k", now=night).reason == "quiet_hours"
    morning = night + timedelta(hours=12)
    assert send(shop, customer, key="k", now=morning).status == "sent"
    row = MessageLog.objects.get(key="k")
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(log_outbox) == 1


def test_frequency_cap_two_per_seven_days_across_channels(shop, customer, enable, log_outbox):
    enable("sms")
    assert send(shop, customer, key="1", now=NOON).status == "sent"
    assert send(shop, customer, key="2", channel="sms", now=NOON + timedelta(days=1)).status == "sent"
    third = send(shop, customer, key="3", now=NOON + timedelta(days=2))
    assert (third.status, third.reason) == ("refused", "frequency_cap")
    # a week after the first, one slot is free again
    assert send(shop, customer, key="3", now=NOON + timedelta(days=7, minutes=1)).status == "sent"
    # a repeat of a sent key is not a new message: it does not count again
    assert send(shop, customer, key="3", now=NOON + timedelta(days=7, minutes=2)).status == "sent"


def test_same_key_twice_calls_the_provider_once(shop, customer, log_outbox):
    first = send(shop, customer, key="campaign:9:1:log")
    second = send(shop, customer, key="campaign:9:1:log")
    assert first == second
    assert len(log_outbox) == 1
    assert MessageLog.objects.filter(key="campaign:9:1:log").count() == 1


def test_failed_send_is_retried_and_sent_once(shop, customer, monkeypatch, log_outbox):
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise sending.ChannelError("log: down")
        return "p-2"

    monkeypatch.setitem(sending.BACKENDS, "log", flaky)
    assert send(shop, customer, key="k").status == "failed"
    assert send(shop, customer, key="k").provider_id == "p-2"
    assert send(shop, customer, key="k").status == "sent"
    assert len(calls) == 2


def test_a_send_interrupted_mid_call_is_never_repeated(shop, customer, log_outbox):
    """A worker died after claiming (row left 'sending'): the key is in flight, then unknown, never resent."""
    MessageLog.objects.create(shop=shop, customer=customer, channel="log", key="k", claimed_at=NOON)
    assert send(shop, customer, key="k", now=NOON + timedelta(minutes=1)).reason == "in_progress"
    late = send(shop, customer, key="k", now=NOON + timedelta(hours=1))
    assert (late.status, late.reason) == ("failed", "outcome_unknown")
    assert send(shop, customer, key="k", now=NOON + timedelta(hours=2)).reason == "outcome_unknown"
    assert log_outbox == []


def test_rate_limit_fails_with_rate_limited(shop, customer, owner, enable, log_outbox):
    enable("log", rate_per_minute=2)
    others = [make_customer(shop) for _ in range(3)]
    results = [send(shop, c, key=f"r{i}") for i, c in enumerate(others)]
    assert [r.status for r in results] == ["sent", "sent", "failed"]
    assert results[2].reason == "rate_limited"
    # the next minute has tokens again, and the same key goes out
    assert send(shop, others[2], key="r2", now=NOON + timedelta(minutes=1)).status == "sent"
    assert len(log_outbox) == 3
    cache.clear()


def test_another_shops_customer_is_refused(shop, other_shop, log_outbox):
    foreign = make_customer(other_shop)
    with pytest.raises(InvalidInput):
        send(shop, foreign)
    assert message_allowed(shop=shop, customer=foreign, channel="log", now=NOON)[0] is False
    assert log_outbox == [] and not MessageLog.objects.exists()
