import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from siyu.payments.models import Payment

from ..factories import make_product
from ..orders.helpers import place

NOTIFY = "/api/payments/notify"


def rsa_pair() -> tuple[rsa.RSAPrivateKey, str, str]:
    """A fresh RSA-2048 key: (key object, private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, private_pem, public_pem


@pytest.fixture(scope="session")
def keys():
    """Key pairs made once per run: generating RSA keys is slow."""
    return {name: rsa_pair() for name in ("merchant", "platform", "app", "alipay", "stranger")}


@pytest.fixture
def order(shop, shopper, address):
    return place(shop, shopper, address, make_product(shop, name="限量茶", price=5000, stock=5))


def open_payment(order, provider: str) -> Payment:
    """The row payment_start would make, without asking the provider (no network in tests)."""
    return Payment.objects.create(
        shop=order.shop,
        order=order,
        provider=provider,
        out_trade_no="P" + secrets.token_hex(8),
        amount=order.total,
    )


def post_notification(client, provider: str, body, headers=None, content_type="application/json"):
    return client.post(f"{NOTIFY}/{provider}/", body, content_type=content_type, headers=headers or {})


MCHID, APPID = "1900000109", "wxd678efh567hg6787"
APIV3_KEY = "a" * 16 + "B" * 16  # 32 characters, as WeChat Pay issues them
SERIAL = "PUB_KEY_ID_TEST"


@pytest.fixture
def wechat(settings, keys):
    """The installation's WeChat Pay account (the default shop's); returns the platform's signing key."""
    settings.SIYU_WECHATPAY = {
        "mchid": MCHID,
        "appid": APPID,
        "private_key": keys["merchant"][1],
        "cert_serial_no": "444F4864EA9B34415",
        "apiv3_key": APIV3_KEY,
        "public_key": keys["platform"][2],
        "public_key_id": SERIAL,
    }
    return keys["platform"][0]
