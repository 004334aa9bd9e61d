"""The sandbox provider's notifications arrive through the same endpoint as real ones."""

import time

import pytest

from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Payment, PaymentStatus
from siyu.payments.providers.sandbox import SIGNATURE_HEADER, TIMESTAMP_HEADER, sandbox_notification

from .conftest import open_payment, post_notification


@pytest.fixture
def payment(order):
    return open_payment(order, "sandbox")


def notice(payment, **kw):
    return sandbox_notification(out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="t1", **kw)


def assert_refused(response):
    assert 400 <= response.status_code < 500, response.content
    assert response.content == b"fail"


def assert_unpaid(payment):
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING_PAYMENT


def test_valid_notification_pays_once(client, payment):
    headers, body = notice(payment)
    for _ in range(3):
        response = post_notification(client, "sandbox", body, headers)
        assert response.status_code == 200 and response.content == b"success"
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 1


def test_tampered_notification_is_refused(client, payment):
    headers, body = notice(payment)
    assert_refused(post_notification(client, "sandbox", body.replace(b'"amount":5000', b'"amount":1'), headers))
    assert_refused(post_notification(client, "sandbox", body, {**headers, SIGNATURE_HEADER: "0" * 64}))
    assert_unpaid(payment)


def test_stale_notification_is_refused(client, payment):
    headers, body = notice(payment, timestamp=int(time.time()) - 600)
    assert_refused(post_notification(client, "sandbox", body, headers))
    assert_unpaid(payment)


@pytest.mark.parametrize(
    "changes",
    [
        {SIGNATURE_HEADER: ""},
        {TIMESTAMP_HEADER: ""},
        {TIMESTAMP_HEADER: "soon"},
        {SIGNATURE_HEADER: "签名" * 8},
    ],
)
def test_missing_or_malformed_headers_are_refused(client, payment, changes):
    headers, body = notice(payment)
    assert_refused(post_notification(client, "sandbox", body, {**headers, **changes}))
    assert_unpaid(payment)


def test_sandbox_switched_off_is_404(client, settings, payment):
    settings.SIYU_SANDBOX_PAYMENTS = False
    headers, body = notice(payment)
    assert post_notification(client, "sandbox", body, headers).status_code == 404
    assert_unpaid(payment)
