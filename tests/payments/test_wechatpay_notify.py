"""WeChat Pay v3 notifications, signed and encrypted in the test with keys made here (no network)."""

import base64
import json
import secrets
import socket
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import Client

from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Payment, PaymentStatus

from .conftest import APIV3_KEY, APPID, MCHID, SERIAL, open_payment, post_notification


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


# --- fields that do not fit: refused before they reach the database ---------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"transaction_id": "4" * 200},  # longer than the column
        {"transaction_id": 4200000001},  # not text
        {"transaction_id": "42\x0000"},
        {"out_trade_no": "P" * 64},
        {"out_trade_no": None},
        {"amount": {"total": 5790.9, "currency": "CNY"}},  # would have been truncated to 5790
        {"amount": {"total": True, "currency": "CNY"}},
        {"amount": {"total": "5000", "currency": "CNY"}},
        {"amount": {"total": -5000, "currency": "CNY"}},
        {"amount": {"total": 10**30, "currency": "CNY"}},
        {"amount": 5000},
    ],
)
def test_fields_of_the_wrong_type_or_size_are_refused(client, wechat, payment, changes):
    body, headers = notification(wechat, payment, **changes)
    assert_refused(send(client, body, headers), "malformed_body")
    assert_unpaid(payment)


def test_a_float_total_equal_to_the_amount_is_still_refused(client, wechat, payment):
    # 5000.0 == 5000 in Python: only the type tells a float from the integer fen WeChat sends.
    body, headers = notification(wechat, payment, amount={"total": float(payment.amount), "currency": "CNY"})
    assert_refused(send(client, body, headers), "malformed_body")
    assert_unpaid(payment)


# --- WeChat Pay down, slow or unreachable: 503, never a 500; refunds stay pending --------------


def _network_fails(monkeypatch, exc):
    import requests

    def fail(*args, **kwargs):
        raise exc

    for verb in ("get", "post"):
        monkeypatch.setattr(requests, verb, fail)


@pytest.fixture
def shopper_api(client, shop, shopper, settings, wechat):
    settings.SIYU_WECHATPAY = {
        **settings.SIYU_WECHATPAY,
        "notify_url": "https://shop.example/api/payments/notify/wechatpay/",
    }
    from siyu.accounts.services import token_issue

    client.defaults["HTTP_AUTHORIZATION"] = "Bearer " + token_issue(shop=shop, shopper=shopper, name="t")[1]
    return client


@pytest.mark.parametrize("exc_name", ["ConnectionError", "ConnectTimeout", "ReadTimeout"])
def test_starting_a_payment_while_wechatpay_is_unreachable_is_503(shopper_api, wechat, order, monkeypatch, exc_name):
    import requests

    _network_fails(monkeypatch, getattr(requests, exc_name)("no route"))
    response = shopper_api.post(
        f"/api/v1/storefront/orders/{order.public_id}/pay", {"provider": "wechatpay"}, content_type="application/json"
    )
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "provider_unavailable"


def test_an_unreadable_answer_when_starting_is_502(shopper_api, wechat, order, monkeypatch):
    from wechatpayv3 import WeChatPay

    monkeypatch.setattr(WeChatPay, "pay", lambda self, **kw: (502, "<html>Bad Gateway</html>"))
    response = shopper_api.post(
        f"/api/v1/storefront/orders/{order.public_id}/pay", {"provider": "wechatpay"}, content_type="application/json"
    )
    assert response.status_code == 502, response.content
    assert response.json()["code"] == "provider_error"


def test_query_while_unreachable_is_logged_and_the_payment_stays_open(wechat, payment, monkeypatch, caplog):
    import requests

    from siyu.payments.services import payments_reconcile

    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - timedelta(minutes=10))
    _network_fails(monkeypatch, requests.ReadTimeout("slow"))
    assert payments_reconcile()["payments_checked"] == 1
    assert_unpaid(payment)
    assert "provider unreachable" in caplog.text


def test_refund_while_unreachable_stays_pending_and_is_retried(wechat, payment, monkeypatch):
    import requests

    from siyu.payments.models import Refund, RefundStatus
    from siyu.payments.services import refund_execute

    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUCCEEDED, provider_txn_id="wx_4200001")
    payment.refresh_from_db()
    refund = Refund.objects.create(
        shop_id=payment.shop_id, payment=payment, out_refund_no="R1", amount=payment.amount, reason="test"
    )
    _network_fails(monkeypatch, requests.ConnectionError("down"))
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING

    from wechatpayv3 import WeChatPay

    answer = json.dumps({"status": "SUCCESS", "refund_id": "50000001"})
    monkeypatch.setattr(WeChatPay, "refund", lambda self, **kw: (200, answer))
    assert refund_execute(refund_id=refund.pk) == RefundStatus.SUCCEEDED
