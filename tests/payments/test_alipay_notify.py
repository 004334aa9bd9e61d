"""Alipay asynchronous notifications: form-encoded, RSA2-signed with keys made in the test.

python-alipay-sdk's verify() checks the signature over every parameter except `sign` and
`sign_type`, sorted by name and joined as `k=v&...` with the values decoded (not URL-encoded).
"""

import base64
import secrets
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Payment, PaymentStatus

from .conftest import open_payment, post_notification

APP_ID, SELLER_ID = "2021000000000001", "2088000000000001"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def alipay(settings, keys):
    settings.SIYU_ALIPAY = {
        "app_id": APP_ID,
        "private_key": keys["app"][1],
        "alipay_public_key": keys["alipay"][2],
        "seller_id": SELLER_ID,
    }
    return keys["alipay"][0]


@pytest.fixture
def payment(order):
    return open_payment(order, "alipay")


def params_for(payment, **changes) -> dict:
    params = {
        "gmt_create": "2026-06-08 10:34:50",
        "charset": "utf-8",
        "gmt_payment": "2026-06-08 10:34:56",
        "notify_time": "2026-06-08 10:34:57",
        "subject": "私域优选 订单",
        "buyer_id": "2088102122524333",
        "invoice_amount": "50.00",
        "version": "1.0",
        "notify_id": secrets.token_hex(16),
        "notify_type": "trade_status_sync",
        "out_trade_no": payment.out_trade_no,
        "total_amount": "50.00",
        "trade_status": "TRADE_SUCCESS",
        "trade_no": "2026060822001" + secrets.token_hex(6),
        "auth_app_id": APP_ID,
        "receipt_amount": "50.00",
        "buyer_pay_amount": "50.00",
        "app_id": APP_ID,
        "seller_id": SELLER_ID,
        "sign_type": "RSA2",
    }
    params.update(changes)
    return params


def signed(key, params: dict) -> dict:
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type"))
    signature = key.sign(unsigned.encode(), padding.PKCS1v15(), hashes.SHA256())
    return {**params, "sign": base64.b64encode(signature).decode()}


def send(client, body):
    return post_notification(client, "alipay", body if isinstance(body, bytes) else body.encode(), content_type=FORM)


def assert_refused(response):
    assert 400 <= response.status_code < 500, response.content
    assert response.content == b"fail"


def assert_unpaid(payment):
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT


def test_valid_notification_pays_once(client, alipay, payment):
    body = urlencode(signed(alipay, params_for(payment)))
    response = send(client, body)
    assert response.status_code == 200 and response.content == b"success"
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.PAID and order.paid_amount == 5000
    again = send(client, body)
    assert again.status_code == 200 and again.content == b"success"
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 1


def test_tampered_notification_is_refused(client, alipay, payment):
    params = signed(alipay, params_for(payment))
    assert_refused(send(client, urlencode({**params, "total_amount": "0.01"})))
    assert_refused(send(client, urlencode({**params, "trade_status": "TRADE_FINISHED"})))
    assert_refused(send(client, urlencode({**params, "extra": "1"})))
    assert_unpaid(payment)


def test_signature_by_another_key_is_refused(client, alipay, payment, keys):
    assert_refused(send(client, urlencode(signed(keys["stranger"][0], params_for(payment)))))
    assert_unpaid(payment)


def test_wrong_total_amount_is_refused(client, alipay, payment):
    for amount in ("0.01", "50.001", "abc", "NaN"):
        assert_refused(send(client, urlencode(signed(alipay, params_for(payment, total_amount=amount)))))
    assert_unpaid(payment)


@pytest.mark.parametrize("field", ["seller_id", "app_id"])
def test_someone_elses_seller_or_app_is_refused(client, alipay, payment, field):
    assert_refused(send(client, urlencode(signed(alipay, params_for(payment, **{field: "2088999999999999"})))))
    assert_unpaid(payment)


def test_missing_or_garbled_signature_is_refused(client, alipay, payment):
    params = signed(alipay, params_for(payment))
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    assert_refused(send(client, urlencode(unsigned)))
    assert_refused(send(client, urlencode({**params, "sign": ""})))
    assert_refused(send(client, urlencode({**params, "sign": "%%% not base64 %%%"})))
    assert_refused(send(client, urlencode({**params, "sign": base64.b64encode(b"short").decode()})))
    assert_refused(send(client, urlencode({**params, "sign_type": "RSA"})))
    assert_unpaid(payment)


@pytest.mark.parametrize(
    "body",
    [b"", b"garbage without equals", b"a=1&&b", b"\xff\xfe=\x00", b"sign=abc", b'{"json": true}'],
)
def test_malformed_bodies_are_refused(client, alipay, payment, body):
    assert_refused(send(client, body))
    assert_unpaid(payment)


def test_signed_but_incomplete_notification_is_refused(client, alipay, payment):
    params = params_for(payment)
    del params["trade_no"]
    assert_refused(send(client, urlencode(signed(alipay, params))))
    assert_unpaid(payment)


def test_unpaid_trade_status_is_acknowledged_without_paying(client, alipay, payment):
    body = urlencode(signed(alipay, params_for(payment, trade_status="WAIT_BUYER_PAY")))
    assert send(client, body).content == b"success"
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT


@pytest.mark.parametrize("amount", ["5e1", "+50.00", "050.00", " 50.00", "50.00 ", "50.000", "-50.00", "５０.00", ""])
def test_a_total_that_is_not_plain_yuan_with_two_decimals_is_refused(client, alipay, payment, amount):
    # Each of these used to be read as 50 yuan (or refused only by luck); only "50.00"-style text is an amount.
    assert_refused(send(client, urlencode(signed(alipay, params_for(payment, total_amount=amount)))))
    assert_unpaid(payment)


@pytest.mark.parametrize("changes", [{"trade_no": "2026" + "9" * 200}, {"trade_no": "2026\x0099"}, {"trade_no": ""}])
def test_ids_that_do_not_fit_are_refused(client, alipay, payment, changes):
    assert_refused(send(client, urlencode(signed(alipay, params_for(payment, **changes)))))
    assert_unpaid(payment)


def test_one_decimal_is_still_a_valid_total(client, alipay, payment):
    response = send(client, urlencode(signed(alipay, params_for(payment, total_amount="50.0"))))
    assert response.content == b"success"


# --- Alipay down, slow or unreachable: never a 500; refunds stay pending -----------------------


def _network_fails(monkeypatch, exc):
    import alipay as sdk

    def fail(*args, **kwargs):
        raise exc

    monkeypatch.setattr(sdk, "urlopen", fail)


@pytest.mark.parametrize("exc", [TimeoutError("slow"), ConnectionRefusedError("down"), OSError("no route")])
def test_query_while_unreachable_raises_provider_unavailable(alipay, payment, monkeypatch, exc):
    from urllib.error import URLError

    from siyu.core.errors import ProviderUnavailable
    from siyu.payments.providers import provider_get

    for failure in (exc, URLError(exc)):
        _network_fails(monkeypatch, failure)
        with pytest.raises(ProviderUnavailable) as caught:
            provider_get("alipay").query(payment=payment)
        assert caught.value.code == "provider_unavailable" and caught.value.status == 503


def test_refund_while_unreachable_stays_pending(alipay, payment, monkeypatch):
    from siyu.payments.models import Refund, RefundStatus
    from siyu.payments.services import refund_execute

    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUCCEEDED, provider_txn_id="ali_2026")
    refund = Refund.objects.create(
        shop_id=payment.shop_id, payment=payment, out_refund_no="R2", amount=payment.amount, reason="test"
    )
    _network_fails(monkeypatch, TimeoutError("slow"))
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING
