"""WeCom customer-contact and Official Account template messages against a local fake server."""

import pytest

from siyu.campaigns.channels.api import Message, message_send
from siyu.campaigns.channels.backends import ChannelError
from siyu.campaigns.channels.backends.wechat import OfficialAccountClient, WeComClient
from siyu.campaigns.channels.models import ChannelAddress, MessageLog
from siyu.campaigns.channels.unsubscribe import unsubscribe_token
from siyu.customers.models import SocialAccount, SocialLink

from .conftest import NOON
from .fake_wechat import FakeWeChat

pytestmark = pytest.mark.django_db
ADD = "/cgi-bin/externalcontact/add_msg_template"
TEMPLATE = "/cgi-bin/message/template/send"


@pytest.fixture
def fake(settings):
    with FakeWeChat() as server:
        settings.SIYU_WECOM_API_BASE = server.base
        settings.SIYU_WECHAT_API_BASE = server.base
        yield server


@pytest.fixture
def wecom_customer(shop, customer, enable):
    enable("wecom", credentials={"corp_id": "ww123", "secret": "s3cret"})
    account = SocialAccount.objects.create(shop=shop, name="小美", kind="wecom", handle="xiaomei")
    SocialLink.objects.create(account=account, customer=customer, status=SocialLink.Status.ADDED)
    ChannelAddress.objects.create(shop=shop, customer=customer, channel="wecom", address="wmEXT001")
    return customer


def test_wecom_message_goes_from_the_friend_account_with_an_unsubscribe_link(shop, wecom_customer, fake):
    result = message_send(
        shop=shop, customer=wecom_customer, message=Message(channel="wecom", text="新品到了", key="w1"), now=NOON
    )
    assert result.status == "sent" and result.provider_id.startswith("msg")
    (body,) = fake.sends(ADD)
    assert body["sender"] == "xiaomei" and body["external_userid"] == ["wmEXT001"]
    assert body["chat_type"] == "single"
    assert body["text"]["content"].startswith("新品到了")
    assert f"/u/{unsubscribe_token(wecom_customer)}/" in body["text"]["content"]


def test_wecom_without_a_friend_account_is_refused_no_address(shop, customer, enable, fake):
    enable("wecom", credentials={"corp_id": "ww123", "secret": "s3cret"})
    ChannelAddress.objects.create(shop=shop, customer=customer, channel="wecom", address="wmEXT001")
    result = message_send(shop=shop, customer=customer, message=Message(channel="wecom", text="x", key="w"), now=NOON)
    assert (result.status, result.reason) == ("refused", "no_address")
    assert fake.requests == []


def test_token_is_cached_between_sends(fake):
    client = WeComClient(app_id="ww123", secret="s3cret")
    client.add_msg_template(sender="a", external_userid="e1", text="1")
    client.add_msg_template(sender="a", external_userid="e2", text="2")
    assert fake.token_calls == 1 and len(fake.sends(ADD)) == 2


def test_expired_token_is_fetched_again_once(fake):
    client = WeComClient(app_id="ww123", secret="s3cret")
    client.token()
    fake.tokens_valid.clear()  # the platform expired it early
    assert client.add_msg_template(sender="a", external_userid="e1", text="1")
    assert fake.token_calls == 2


@pytest.mark.parametrize("errcode", [41001, 45009, 60020])
def test_error_codes_become_failed_sends(shop, wecom_customer, fake, errcode):
    fake.send_errors.append(errcode)
    result = message_send(
        shop=shop, customer=wecom_customer, message=Message(channel="wecom", text="x", key="k"), now=NOON
    )
    assert (result.status, result.reason) == ("failed", f"wecom: errcode {errcode}")
    assert MessageLog.objects.get(key="k").status == "failed"
    # the caller's retry with the same key goes through, once
    again = message_send(
        shop=shop, customer=wecom_customer, message=Message(channel="wecom", text="x", key="k"), now=NOON
    )
    assert again.status == "sent"
    assert len(fake.sends(ADD)) == 2


def test_wrong_secret_and_http_errors_raise_channel_error(fake):
    with pytest.raises(ChannelError, match="token errcode 40001"):
        WeComClient(app_id="ww123", secret="wrong").token()
    fake.http_status = 502
    with pytest.raises(ChannelError, match="HTTPError"):
        OfficialAccountClient(app_id="wx1", secret="s3cret").template_send(
            openid="o", template_id="t", url="", fields={}
        )


def test_official_account_template_message(shop, customer, enable, fake):
    enable("wechat_oa", credentials={"app_id": "wx1", "secret": "s3cret", "template_id": "TPL1"})
    ChannelAddress.objects.create(shop=shop, customer=customer, channel="wechat_oa", address="oOPENID")
    message = Message(channel="wechat_oa", text="会员日", subject="会员福利", link="https://s.example/go/x", key="oa1")
    assert message_send(shop=shop, customer=customer, message=message, now=NOON).status == "sent"
    (body,) = fake.sends(TEMPLATE)
    assert (body["touser"], body["template_id"], body["url"]) == ("oOPENID", "TPL1", "https://s.example/go/x")
    assert body["data"]["first"]["value"] == "会员福利"
    assert body["data"]["content"]["value"].startswith("会员日")
    assert "/u/" in body["data"]["content"]["value"]
    assert fake.requests[0][0] == "/cgi-bin/token" and fake.requests[0][1]["grant_type"] == "client_credential"


def test_credentials_are_encrypted_at_rest(shop, enable):
    from django.db import connection

    enable("wecom", credentials={"corp_id": "ww123", "secret": "s3cret"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM channels_channelconfig WHERE channel = 'wecom'")
        (stored,) = cursor.fetchone()
    assert "s3cret" not in stored and "ww123" not in stored
