"""Each shop's own merchant account: stored encrypted, entered by the owner only, checked on save,
never shown back; providers are built per shop and a shop's notification URL can only settle that
shop's payments, verified with that shop's keys."""

import pytest
from django.db import connection

from siyu.accounts.roles import FINANCE
from siyu.accounts.services import address_create
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.orders.models import Order, OrderStatus
from siyu.payments.accounts import payment_account_save, provider_config
from siyu.payments.models import PaymentAccount, PaymentStatus
from siyu.payments.providers import provider_get, providers_enabled
from siyu.payments.services import payment_start

from ..factories import make_product, make_staff
from ..orders.helpers import place
from .conftest import MCHID, open_payment, post_notification
from .test_wechatpay_notify import notification

URL = "https://shop.example/api/payments/notify/wechatpay/other/"
OTHER_MCHID, OTHER_APPID, OTHER_SERIAL, OTHER_V3 = "1900000222", "wx2222222222222222", "PUB_KEY_ID_0222", "c" * 32


def wechat_data(keys, *, merchant="merchant", platform="platform", **changes) -> dict:
    return {
        "mchid": OTHER_MCHID,
        "appid": OTHER_APPID,
        "cert_serial_no": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
        "public_key_id": OTHER_SERIAL,
        "public_key": keys[platform][2],
        "private_key": keys[merchant][1],
        "apiv3_key": OTHER_V3,
        **changes,
    }


@pytest.fixture
def other_address(other_shop, shopper):
    data = {"recipient": "王五", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区"}
    return address_create(shop=other_shop, shopper=shopper, data={**data, "detail": "文三路 1 号"})


@pytest.fixture
def other_owner(other_shop):
    return make_staff(other_shop, username="other-boss")


@pytest.fixture
def other_account(other_shop, other_owner, keys):
    return payment_account_save(
        actor=other_owner, shop=other_shop, provider="wechatpay", data=wechat_data(keys, platform="app"), notify_url=URL
    )


@pytest.fixture
def installation_wechat(wechat):
    """The installation's own WeChat Pay account (settings), the default shop's fallback."""


def test_secrets_are_encrypted_at_rest_and_never_in_the_audit(other_account, keys):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets, settings FROM payments_paymentaccount WHERE id = %s", [other_account.pk])
        stored_secrets, stored_settings = cursor.fetchone()
    assert OTHER_V3 not in stored_secrets and "PRIVATE KEY" not in stored_secrets
    assert "PRIVATE KEY" not in str(stored_settings)
    config = provider_config(shop=other_account.shop, provider="wechatpay")
    assert config["apiv3_key"] == OTHER_V3 and config["notify_url"] == URL
    from siyu.core.models import AuditEntry

    entry = AuditEntry.objects.get(action="payment_account.saved")
    assert OTHER_V3 not in str(entry.data) and "apiv3_key" in entry.data["changed"]


def test_only_the_owner_may_save(other_shop, other_owner, keys):
    finance = make_staff(other_shop, role=FINANCE, username="other-finance")
    with pytest.raises(PermissionDenied):
        payment_account_save(
            actor=finance, shop=other_shop, provider="wechatpay", data=wechat_data(keys), notify_url=URL
        )
    assert not PaymentAccount.objects.exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"mchid": "12ab"}, "mchid"),
        ({"appid": "not-an-app"}, "appid"),
        ({"apiv3_key": "short"}, "apiv3_key"),
        ({"public_key_id": "anything"}, "public_key_id"),
        ({"private_key": "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----"}, "private_key"),
        ({"public_key": "hello"}, "public_key"),
        ({"private_key": ""}, "private_key"),  # required on first save
    ],
)
def test_values_are_checked_on_save(other_shop, other_owner, keys, changes, field):
    with pytest.raises(InvalidInput) as caught:
        payment_account_save(
            actor=other_owner, shop=other_shop, provider="wechatpay", data=wechat_data(keys, **changes), notify_url=URL
        )
    assert field in caught.value.detail
    assert not PaymentAccount.objects.exists()


def test_a_public_key_in_place_of_the_private_key_is_refused(other_shop, other_owner, keys):
    with pytest.raises(InvalidInput):
        payment_account_save(
            actor=other_owner,
            shop=other_shop,
            provider="wechatpay",
            data=wechat_data(keys, private_key=keys["merchant"][2]),
            notify_url=URL,
        )


def test_blank_secrets_keep_what_is_stored(other_account, other_owner, keys):
    data = {"mchid": "1900000333", "private_key": "", "apiv3_key": "", "public_key": ""}
    payment_account_save(actor=other_owner, shop=other_account.shop, provider="wechatpay", data=data, notify_url=URL)
    config = provider_config(shop=other_account.shop, provider="wechatpay")
    assert config["mchid"] == "1900000333" and config["apiv3_key"] == OTHER_V3
    assert config["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_only_the_default_shop_falls_back_to_the_installation(shop, other_shop, installation_wechat):
    assert "wechatpay" in providers_enabled(shop=shop)
    assert "wechatpay" not in providers_enabled(shop=other_shop)
    assert provider_get("wechatpay", shop=shop).config["mchid"] == MCHID
    with pytest.raises(InvalidInput):
        provider_get("wechatpay", shop=other_shop)


def test_a_shop_with_its_own_account_uses_it(other_account, installation_wechat):
    assert provider_get("wechatpay", shop=other_account.shop).config["mchid"] == OTHER_MCHID
    assert "wechatpay" in providers_enabled(shop=other_account.shop)


def test_payment_start_uses_the_orders_shop_account(other_account, other_shop, shopper, other_address, monkeypatch):
    from wechatpayv3 import WeChatPay

    used = []
    monkeypatch.setattr(
        WeChatPay, "pay", lambda self, **kw: (used.append(self._core._mchid), (200, '{"code_url": "weixin://x"}'))[1]
    )
    order = place(other_shop, shopper, other_address, make_product(other_shop, name="茶", price=3000, stock=3))
    action = payment_start(
        shop=other_shop, shopper=order.shopper, order_public_id=order.public_id, provider="wechatpay"
    )
    assert action.url == "weixin://x" and used == [OTHER_MCHID]


# --- one shop's keys can never pay another shop's order ------------------------------------------


@pytest.fixture
def two_payments(shop, other_shop, shopper, address, other_address, other_account):
    mine = place(shop, shopper, address, make_product(shop, name="A茶", price=5000, stock=5))
    theirs = place(other_shop, shopper, other_address, make_product(other_shop, name="B茶", price=5000, stock=5))
    return open_payment(mine, "wechatpay"), open_payment(theirs, "wechatpay")


def _assert_unpaid(payment):
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT


def _other_notification(keys, payment):
    """Signed and encrypted as WeChat Pay does for the other shop's merchant account."""
    from . import test_wechatpay_notify as wx

    resource = wx.resource(payment, mchid=OTHER_MCHID, appid=OTHER_APPID)
    body = wx.body_of(wx.encrypt(resource, key=OTHER_V3))
    return body, wx.sign(keys["app"][0], body, serial=OTHER_SERIAL)


def test_the_shops_own_url_and_keys_pay_its_order(client, keys, two_payments, installation_wechat):
    _, theirs = two_payments
    body, headers = _other_notification(keys, theirs)
    answer = post_notification(client, "wechatpay/other", body, headers)
    assert answer.status_code == 200, answer.content
    assert Order.objects.get(pk=theirs.order_id).status == OrderStatus.PAID


def test_a_notification_signed_for_shop_a_cannot_pay_shop_bs_order(client, keys, two_payments, installation_wechat):
    """Signed by the installation's (default shop's) keys, naming the other shop's trade: refused at
    the default URL (not that shop's payment) and at the other shop's URL (not its keys)."""
    mine, theirs = two_payments
    body, headers = notification(keys["platform"][0], theirs)
    for url in ("wechatpay", "wechatpay/main", "wechatpay/other"):
        answer = post_notification(client, url, body, headers)
        assert 400 <= answer.status_code < 500, (url, answer.content)
    _assert_unpaid(theirs)


def test_shop_as_keys_at_shop_bs_url_cannot_pay(client, keys, two_payments, installation_wechat):
    mine, theirs = two_payments
    body, headers = _other_notification(keys, mine)  # the other shop's keys, our default shop's trade
    for url in ("wechatpay/other", "wechatpay", "wechatpay/main"):
        answer = post_notification(client, url, body, headers)
        assert 400 <= answer.status_code < 500, (url, answer.content)
    _assert_unpaid(mine)


def test_unknown_shop_or_no_account_is_404(client, shop, other_shop, installation_wechat):
    assert post_notification(client, "wechatpay/nope", b"{}").status_code == 404
    assert post_notification(client, "wechatpay/other", b"{}").status_code == 404  # no account of its own


# --- the console page ----------------------------------------------------------------------------


def test_console_page_is_owner_only_and_never_shows_secrets(client, other_shop, other_owner, other_account, keys):
    finance = make_staff(other_shop, role=FINANCE, username="other-fin")
    client.force_login(finance.user)
    assert client.get("/s/other/console/shop/payment-accounts/").status_code == 403
    client.force_login(other_owner.user)
    page = client.get("/s/other/console/shop/payment-accounts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert OTHER_V3 not in html and "PRIVATE KEY" not in html and OTHER_MCHID not in html
    assert OTHER_MCHID[-4:] in html


def test_console_save_keeps_blank_secrets_and_sets_the_shops_url(client, other_shop, other_owner, other_account):
    client.force_login(other_owner.user)
    form = {"provider": "wechatpay", "wechatpay-mchid": "1900000444", "wechatpay-enabled": "on"}
    answer = client.post("/s/other/console/shop/payment-accounts/", form)
    assert answer.status_code == 302, answer.content
    config = provider_config(shop=other_shop, provider="wechatpay")
    assert config["mchid"] == "1900000444" and config["apiv3_key"] == OTHER_V3
    assert config["notify_url"].endswith("/api/payments/notify/wechatpay/other/")
    bad = client.post("/s/other/console/shop/payment-accounts/", {**form, "wechatpay-appid": "nope"})
    assert bad.status_code == 400
    assert provider_config(shop=other_shop, provider="wechatpay")["appid"] == OTHER_APPID


def test_a_switched_off_account_is_not_offered_but_still_verifies(other_account, other_owner):
    payment_account_save(
        actor=other_owner, shop=other_account.shop, provider="wechatpay", data={}, notify_url=URL, enabled=False
    )
    assert "wechatpay" not in providers_enabled(shop=other_account.shop)
    assert provider_get("wechatpay", shop=other_account.shop).config["mchid"] == OTHER_MCHID
