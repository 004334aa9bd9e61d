"""WeChat Pay v3 notifications, signed and encrypted in the test with keys made here (no network)."""

import base64
import json
import secrets
import socket
import time

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import Client

from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Payment, PaymentStatus

from .conftest import open_payment, post_notification

MCHID, APPID = "1900000109", "wxd678efh567hg6787"
APIV3_KEY = "a" * 16 + "B" * 16  # 32 characters, as WeChat Pay issues them
SERIAL = "PUB_KEY_ID_TEST"


@pytest.fixture
def wechat(settings, keys):
    settings.SIYU_WECHATPAY = {
        "mchid": MCHID,
        "appid": APPID,
        "private_key": keys["merchant"][1],
        "cert_serial_no": "444F4864EA9B34415...",
        "apiv3_key": APIV3_KEY,
        "public_key": keys["platform"][2],
        "public_key_id": SERIAL,
    }
    return keys["platform"][0]


@pytest.fixture
def payment(order):
    return open_payment(order, "wechatpay")


def resource(payment, **changes) -> dict:
    data = {
        "mchid": MCHID,
        "appid": APPID,
        "out_trade_no": payment.out_trade_no,
        "transaction_id": "4200000000" + secrets.token_hex(6),
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "amount": {"total": payment.amount, "payer_total": payment.amount, "currency": "CNY"},
    }
    data.update(changes)
    return data


def encrypt(plain: dict | bytes, key: str = APIV3_KEY, nonce: str = "fdasflkja484") -> dict:
    raw = plain if isinstance(plain, bytes) else json.dumps(plain).encode()
    ciphertext = AESGCM(key.encode()).encrypt(nonce.encode(), raw, b"transaction")
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ciphertext).decode(),
        "nonce": nonce,
        "associated_data": "transaction",
        "original_type": "transaction",
    }


def body_of(encrypted: dict) -> bytes:
    return json.dumps(
        {
            "id": "EV-2018022511223320873",
            "create_time": "2026-06-08T10:34:56+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": encrypted,
        },
        ensure_ascii=False,
    ).encode()


def sign(platform_key, body: bytes, *, timestamp: int | None = None, nonce: str | None = None, serial=SERIAL):
    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = nonce or secrets.token_hex(16)
    message = f"{timestamp}\n{nonce}\n{body.decode()}\n".encode()
    signature = platform_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "Wechatpay-Timestamp": str(timestamp),
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        "Wechatpay-Signature": base64.b64encode(signature).decode(),
    }


def notification(platform_key, payment, **changes) -> tuple[bytes, dict]:
    body = body_of(encrypt(resource(payment, **changes)))
    return body, sign(platform_key, body)


def send(client, body, headers):
    return post_notification(client, "wechatpay", body, headers)


def assert_refused(response, code: str | None = None):
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] == "FAIL"
    if code:
        assert response.json()["message"] == code


def assert_unpaid(payment):
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT


def test_valid_notification_pays_once_and_repeats_are_acknowledged(client, wechat, payment):
    body, headers = notification(wechat, payment)
    first = send(client, body, headers)
    assert first.status_code == 200, first.content
    assert first["Content-Type"].startswith("application/json")
    assert first.json() == {"code": "SUCCESS", "message": "成功"}
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.PAID and order.paid_amount == payment.amount
    for _ in range(2):
        again = send(client, body, sign(wechat, body))
        assert again.status_code == 200 and again.json()["code"] == "SUCCESS"
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 1
    assert Payment.objects.get().provider_txn_id.startswith("wx_4200000000")
    assert list(order.timeline.filter(action="pay").values_list("to_status", flat=True)) == ["paid"]


def test_csrf_is_not_required(wechat, payment):
    body, headers = notification(wechat, payment)
    response = send(Client(enforce_csrf_checks=True), body, headers)
    assert response.status_code == 200


def test_tampered_body_is_refused(client, wechat, payment):
    body, headers = notification(wechat, payment)
    tampered = body.replace(b"TRANSACTION.SUCCESS", b"TRANSACTION.SUCCES5")
    assert_refused(send(client, tampered, headers), "bad_signature")
    other = body_of(encrypt(resource(payment, amount={"total": 1, "payer_total": 1, "currency": "CNY"})))
    assert_refused(send(client, other, headers), "bad_signature")  # someone else's body, our headers
    assert_unpaid(payment)


def test_signature_by_another_key_is_refused(client, wechat, payment, keys):
    body = body_of(encrypt(resource(payment)))
    assert_refused(send(client, body, sign(keys["stranger"][0], body)), "bad_signature")
    assert_unpaid(payment)


def test_wrong_amount_is_refused(client, wechat, payment):
    body, headers = notification(wechat, payment, amount={"total": 1, "payer_total": 1, "currency": "CNY"})
    assert_refused(send(client, body, headers), "amount_mismatch")
    assert_unpaid(payment)


@pytest.mark.parametrize("field", ["mchid", "appid"])
def test_someone_elses_merchant_or_app_is_refused(client, wechat, payment, field):
    body, headers = notification(wechat, payment, **{field: "1234567890"})
    assert_refused(send(client, body, headers), "merchant_mismatch")
    assert_unpaid(payment)


def test_unknown_trade_is_refused(client, wechat, payment):
    body, headers = notification(wechat, payment, out_trade_no="P-not-ours")
    assert_refused(send(client, body, headers), "unknown_trade")


def test_stale_or_future_timestamp_is_refused(client, wechat, payment):
    body = body_of(encrypt(resource(payment)))
    for timestamp in (int(time.time()) - 301, int(time.time()) + 400):
        assert_refused(send(client, body, sign(wechat, body, timestamp=timestamp)), "stale_notification")
    assert_unpaid(payment)


def test_unknown_serial_is_refused_without_any_network(client, wechat, payment, monkeypatch):
    from wechatpayv3.core import Core

    attempts = []
    monkeypatch.setattr(Core, "_update_certificates", lambda self: attempts.append("certificates"))
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: attempts.append(address))
    body = body_of(encrypt(resource(payment)))
    for serial in ("5157F09EFDC096DE15EBE81A47057A7232F1B8E1", "not-hex", ""):
        response = send(client, body, sign(wechat, body, serial=serial))
        assert_refused(response)
    assert attempts == []
    assert_unpaid(payment)


@pytest.mark.parametrize(
    "header",
    ["Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial", "Wechatpay-Signature-Type"],
)
def test_each_missing_header_is_refused(client, wechat, payment, header):
    body, headers = notification(wechat, payment)
    del headers[header]
    assert_refused(send(client, body, headers), "missing_headers")
    assert_unpaid(payment)


@pytest.mark.parametrize(
    "changes",
    [
        {"Wechatpay-Signature-Type": "WECHATPAY2-SHA1-RSA1024"},
        {"Wechatpay-Timestamp": "yesterday"},
        {"Wechatpay-Timestamp": "1e9"},
        {"Wechatpay-Signature": "!!!not base64!!!"},
        {"Wechatpay-Signature": base64.b64encode(b"short").decode()},
        {"Wechatpay-Signature": "ü" * 10},
    ],
)
def test_malformed_headers_are_refused(client, wechat, payment, changes):
    body, headers = notification(wechat, payment)
    assert_refused(send(client, body, {**headers, **changes}))
    assert_unpaid(payment)


def _signed(wechat, body: bytes):
    return body, sign(wechat, body)


@pytest.mark.parametrize(
    "make_body",
    [
        lambda p: b"not json at all",
        lambda p: b"",
        lambda p: b"[1, 2, 3]",
        lambda p: b"\xff\xfe\x00garbage",
        lambda p: json.dumps({"resource_type": "encrypt-resource"}).encode(),
        lambda p: body_of({**encrypt(resource(p)), "ciphertext": "@@@not-base64@@@"}),
        lambda p: body_of({**encrypt(resource(p)), "ciphertext": base64.b64encode(b"x" * 40).decode()}),
        lambda p: body_of({**encrypt(resource(p)), "algorithm": "AEAD_SM4_GCM"}),
        lambda p: body_of({**encrypt(resource(p)), "nonce": ""}),
        lambda p: body_of(encrypt(resource(p), key="k" * 32)),  # encrypted with another APIv3 key
        lambda p: body_of(encrypt(b"not json inside")),
        lambda p: body_of(encrypt(b"[1]")),
        lambda p: body_of(encrypt(resource(p, amount="lots"))),
        lambda p: body_of(encrypt({"mchid": MCHID, "appid": APPID})),
    ],
)
def test_malformed_bodies_are_refused_never_a_500(client, wechat, payment, make_body):
    body = make_body(payment)
    headers = sign(wechat, body) if not body.startswith(b"\xff") else sign(wechat, b"x")
    assert_refused(send(client, body, headers))
    assert_unpaid(payment)


def test_failed_payment_notification_is_acknowledged_and_leaves_the_order_unpaid(client, wechat, payment):
    body, headers = notification(wechat, payment, trade_state="PAYERROR")
    assert send(client, body, headers).status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT


def test_provider_not_configured_or_unknown_is_404(client, settings, payment):
    settings.SIYU_WECHATPAY = {}
    response = post_notification(client, "wechatpay", b"{}")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert post_notification(client, "paypal", b"{}").status_code == 404


def test_only_post(client, shop, wechat):
    response = client.get("/api/payments/notify/wechatpay/")
    assert response.status_code == 405
