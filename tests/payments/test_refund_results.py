"""Refund results: a refund WeChat Pay answers PROCESSING is not done until its result arrives, by
its own signed, encrypted notification (REFUND.* events, same URL as payments) or by our query in
the reconcile task, whichever comes first. Keys are made in the test; the SDK's HTTP calls are
replaced by the answers WeChat Pay and Alipay document (no network)."""

import base64
import json
import secrets
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from siyu.orders.models import AfterSaleStatus, Order, OrderStatus, OrderTimeline
from siyu.payments import aftersales
from siyu.payments.aftersales import aftersale_refund_retry, aftersale_review
from siyu.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from siyu.payments.providers.base import VerifiedNotification
from siyu.payments.services import _apply, payments_reconcile, refund_execute

from ..orders.helpers import ask
from .conftest import APIV3_KEY, MCHID, open_payment, post_notification
from .test_wechatpay_notify import sign

A = AfterSaleStatus


def _paid(order, provider: str) -> Payment:
    payment = open_payment(order, provider)
    note = VerifiedNotification(
        out_trade_no=payment.out_trade_no,
        provider_txn_id=f"x_{secrets.token_hex(6)}",
        amount=payment.amount,
        succeeded=True,
    )
    assert _apply(provider=provider, note=note, shop=order.shop) == "paid"
    payment.refresh_from_db()
    return payment


@pytest.fixture
def refund_of(order, owner, monkeypatch):
    """Pay `order` through `provider`, ask for a refund and approve it; the worker does not run,
    so the test decides when the provider is asked."""

    def make(provider: str) -> Refund:
        monkeypatch.setattr(aftersales, "refund_enqueue", lambda refund_id: None)
        _paid(order, provider)
        sale = ask(order, order.lines.get(), "refund_only", 1, "other")
        aftersale_review(actor=owner, shop=order.shop, public_id=sale.public_id, approve=True)
        return Refund.objects.select_related("payment", "after_sale").get(after_sale=sale)

    return make


def _wechat_answers(monkeypatch, *, refund=None, query=None):
    from wechatpayv3 import WeChatPay

    calls = []

    def answer(name, status):
        def call(self, **kwargs):
            calls.append((name, kwargs.get("out_refund_no")))
            return (200, json.dumps({"refund_id": "50300000001", "status": status})) if status else (404, "{}")

        return call

    if refund is not None:
        monkeypatch.setattr(WeChatPay, "refund", answer("refund", refund))
    if query is not None:
        monkeypatch.setattr(WeChatPay, "query_refund", answer("query", query))
    return calls


def refund_body(refund, *, status="SUCCESS", key=APIV3_KEY, **changes) -> bytes:
    resource = {
        "mchid": MCHID,
        "out_trade_no": refund.payment.out_trade_no,
        "transaction_id": refund.payment.provider_txn_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": "50300000001",
        "refund_status": status,
        "success_time": "2026-06-08T10:40:00+08:00",
        "user_received_account": "招商银行信用卡0403",
        "amount": {"total": refund.payment.amount, "refund": refund.amount, "payer_total": 5000, "payer_refund": 5000},
        **changes,
    }
    nonce = secrets.token_hex(6)
    cipher = AESGCM(key.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), b"refund")
    event = {
        "id": "EV-" + secrets.token_hex(8),
        "create_time": "2026-06-08T10:40:01+08:00",
        "resource_type": "encrypt-resource",
        "event_type": f"REFUND.{status}",
        "summary": "退款结果",
        "resource": {
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(cipher).decode(),
            "nonce": nonce,
            "associated_data": "refund",
            "original_type": "refund",
        },
    }
    return json.dumps(event, ensure_ascii=False).encode()


def notify(client, platform_key, body, **sign_kw):
    return post_notification(client, "wechatpay", body, sign(platform_key, body, **sign_kw))


def _state(refund):
    refund.refresh_from_db()
    refund.after_sale.refresh_from_db()
    return refund.status, refund.after_sale.status


# --- PROCESSING is not done ---------------------------------------------------------------------


def test_processing_answer_leaves_the_refund_pending_and_submitted(wechat, refund_of, monkeypatch):
    refund = refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="PROCESSING")
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    assert _state(refund) == (RefundStatus.PENDING, A.REFUNDING)
    assert refund.submitted_at is not None and refund.provider_refund_id == "50300000001"
    assert Order.objects.get(pk=refund.payment.order_id).status == OrderStatus.PAID


def test_success_notification_settles_once_and_repeats_are_acknowledged(client, wechat, refund_of, monkeypatch):
    refund = refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="PROCESSING")
    refund_execute(refund_id=refund.pk)
    body = refund_body(refund)
    for _ in range(3):
        answer = notify(client, wechat, body)
        assert answer.status_code == 200 and answer.json()["code"] == "SUCCESS", answer.content
    assert _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)
    order = Order.objects.get(pk=refund.payment.order_id)
    assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount
    assert OrderTimeline.objects.filter(order=order, action="refund").count() == 1


@pytest.mark.parametrize("status", ["ABNORMAL", "CLOSED"])
def test_abnormal_or_closed_sends_the_request_back_to_finance_with_the_reason(
    client, wechat, refund_of, monkeypatch, owner, status
):
    refund = refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="PROCESSING")
    refund_execute(refund_id=refund.pk)
    assert notify(client, wechat, refund_body(refund, status=status)).status_code == 200
    assert _state(refund) == (RefundStatus.FAILED, A.APPROVED)  # due again, in finance's queue
    assert status in refund.result_message
    order = Order.objects.get(pk=refund.payment.order_id)
    assert order.refunded_amount == 0 and order.status == OrderStatus.PAID
    assert Payment.objects.get(pk=refund.payment_id).refunded_amount == 0
    failed = OrderTimeline.objects.get(order=order, action="refund.failed")
    assert status in failed.note
    # Finance may send it again: a new refund row, a new out_refund_no.
    _wechat_answers(monkeypatch, refund="SUCCESS")
    aftersale_refund_retry(actor=owner, shop=order.shop, public_id=refund.after_sale.public_id)
    again = Refund.objects.get(after_sale=refund.after_sale, status=RefundStatus.PENDING)
    assert again.out_refund_no != refund.out_refund_no
    assert refund_execute(refund_id=again.pk) == RefundStatus.SUCCEEDED
    assert _state(refund)[1] == A.REFUNDED


def test_immediate_final_answers_settle_at_once(wechat, refund_of, monkeypatch):
    refund = refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="ABNORMAL")
    assert refund_execute(refund_id=refund.pk) == RefundStatus.FAILED
    assert _state(refund) == (RefundStatus.FAILED, A.APPROVED)


# --- notification vs our own query, in either order ----------------------------------------------


def _aged(refund):
    Refund.objects.filter(pk=refund.pk).update(created_at=refund.created_at - timedelta(minutes=10))


def test_query_settles_a_refund_whose_notification_never_came(wechat, refund_of, monkeypatch):
    refund = refund_of("wechatpay")
    calls = _wechat_answers(monkeypatch, refund="PROCESSING", query="PROCESSING")
    refund_execute(refund_id=refund.pk)
    _aged(refund)
    assert payments_reconcile()["refunds_settled"] == 0  # still processing: asked, not resubmitted
    assert calls[-1] == ("query", refund.out_refund_no)
    _wechat_answers(monkeypatch, query="SUCCESS")
    assert payments_reconcile()["refunds_settled"] == 1
    assert _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)
    assert payments_reconcile()["refunds_retried"] == 0  # nothing left to ask about


def test_notification_after_the_query_changes_nothing(client, wechat, refund_of, monkeypatch):
    refund = refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="PROCESSING", query="SUCCESS")
    refund_execute(refund_id=refund.pk)
    _aged(refund)
    payments_reconcile()
    assert notify(client, wechat, refund_body(refund)).status_code == 200
    assert _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)
    assert OrderTimeline.objects.filter(order_id=refund.payment.order_id, action="refund").count() == 1


def test_notification_before_the_query_and_before_our_call_returns(client, wechat, refund_of, monkeypatch):
    """WeChat Pay may push the result while our refund call is still waiting for its answer."""
    refund = refund_of("wechatpay")
    from wechatpayv3 import WeChatPay

    def refund_call(self, **kwargs):
        assert notify(client, wechat, refund_body(refund)).status_code == 200
        return 200, json.dumps({"refund_id": "50300000001", "status": "PROCESSING"})

    monkeypatch.setattr(WeChatPay, "refund", refund_call)
    assert refund_execute(refund_id=refund.pk) == RefundStatus.SUCCEEDED
    assert _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)
    queried = _wechat_answers(monkeypatch, query="CLOSED")
    _aged(refund)
    payments_reconcile()
    assert queried == [] and _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)


def test_a_lost_submission_is_submitted_again_with_the_same_number(wechat, refund_of, monkeypatch):
    import requests

    refund = refund_of("wechatpay")

    def down(*args, **kwargs):
        raise requests.ConnectionError("down")

    monkeypatch.setattr(requests, "post", down)
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    refund.refresh_from_db()
    assert refund.submitted_at is None
    calls = _wechat_answers(monkeypatch, refund="SUCCESS", query="SUCCESS")
    _aged(refund)
    payments_reconcile()
    assert calls == [("refund", refund.out_refund_no)]
    assert _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)


# --- refused notifications -----------------------------------------------------------------------


def _submitted(wechat_refund_of, monkeypatch):
    refund = wechat_refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="PROCESSING")
    refund_execute(refund_id=refund.pk)
    return refund


def _refused(answer, code=None):
    assert 400 <= answer.status_code < 500, answer.content
    assert answer.json()["code"] == "FAIL"
    if code:
        assert answer.json()["message"] == code


def test_tampered_refund_notification_is_refused(client, wechat, refund_of, monkeypatch):
    refund = _submitted(refund_of, monkeypatch)
    body = refund_body(refund, status="ABNORMAL")
    headers = sign(wechat, body)
    tampered = body.replace(b"REFUND.ABNORMAL", b"REFUND.SUCCESS")
    _refused(post_notification(client, "wechatpay", tampered, headers), "bad_signature")
    other = refund_body(refund, status="SUCCESS")  # a real-looking body under another body's headers
    _refused(post_notification(client, "wechatpay", other, headers), "bad_signature")
    assert _state(refund) == (RefundStatus.PENDING, A.REFUNDING)


def test_stale_or_foreign_refund_notifications_are_refused(client, wechat, keys, refund_of, monkeypatch):
    refund = _submitted(refund_of, monkeypatch)
    body = refund_body(refund)
    _refused(notify(client, wechat, body, timestamp=int(time.time()) - 301), "stale_notification")
    _refused(notify(client, keys["stranger"][0], body), "bad_signature")
    _refused(notify(client, wechat, refund_body(refund, key="k" * 32)), "bad_signature")
    _refused(notify(client, wechat, refund_body(refund, mchid="1234567890")), "merchant_mismatch")
    _refused(notify(client, wechat, refund_body(refund, out_refund_no="R-not-ours")), "unknown_refund")
    _refused(notify(client, wechat, refund_body(refund, out_trade_no="P-other")), "unknown_refund")
    wrong = {"total": 5000, "refund": 1, "payer_total": 5000, "payer_refund": 1}
    _refused(notify(client, wechat, refund_body(refund, amount=wrong)), "amount_mismatch")
    _refused(notify(client, wechat, refund_body(refund, status="PROCESSING")), "malformed_body")
    _refused(notify(client, wechat, refund_body(refund, refund_id=None)), "malformed_body")
    assert _state(refund) == (RefundStatus.PENDING, A.REFUNDING)


# --- Alipay: fund_change decides, the refund query settles the uncertain ones --------------------


@pytest.fixture
def alipay_keys(settings, keys):
    settings.SIYU_ALIPAY = {
        "app_id": "2021000000000001",
        "private_key": keys["app"][1],
        "alipay_public_key": keys["alipay"][2],
    }


def _alipay_answers(monkeypatch, *, refund=None, query=None):
    from alipay import AliPay

    calls = []
    if refund is not None:

        def refund_call(self, **kwargs):
            calls.append("refund")
            return refund

        monkeypatch.setattr(AliPay, "api_alipay_trade_refund", refund_call)
    if query is not None:

        def query_call(self, **kwargs):
            calls.append("query")
            return query

        monkeypatch.setattr(AliPay, "api_alipay_trade_fastpay_refund_query", query_call)
    return calls


def test_alipay_fund_change_y_is_done(alipay_keys, refund_of, monkeypatch):
    refund = refund_of("alipay")
    calls = _alipay_answers(monkeypatch, refund={"code": "10000", "fund_change": "Y", "trade_no": "2026001"})
    assert refund_execute(refund_id=refund.pk) == RefundStatus.SUCCEEDED
    assert calls == ["refund"] and _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)


def test_alipay_fund_change_n_is_asked_and_settled_by_the_query(alipay_keys, refund_of, monkeypatch):
    refund = refund_of("alipay")
    calls = _alipay_answers(
        monkeypatch, refund={"code": "10000", "fund_change": "N"}, query={"code": "10000", "out_request_no": "x"}
    )
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    assert calls == ["refund", "query"]
    refund.refresh_from_db()
    assert refund.submitted_at is not None
    _alipay_answers(monkeypatch, query={"code": "10000", "refund_status": "REFUND_SUCCESS", "trade_no": "2026001"})
    _aged(refund)
    assert payments_reconcile()["refunds_settled"] == 1
    assert _state(refund) == (RefundStatus.SUCCEEDED, A.REFUNDED)


def test_alipay_refusal_goes_back_to_finance_with_the_reason(alipay_keys, refund_of, monkeypatch):
    refund = refund_of("alipay")
    refusal = {"code": "40004", "sub_code": "ACQ.SELLER_BALANCE_NOT_ENOUGH", "sub_msg": "卖家余额不足"}
    _alipay_answers(monkeypatch, refund=refusal)
    assert refund_execute(refund_id=refund.pk) == RefundStatus.FAILED
    assert _state(refund) == (RefundStatus.FAILED, A.APPROVED)
    assert refund.result_message == "卖家余额不足"
    assert OrderTimeline.objects.get(order_id=refund.payment.order_id, action="refund.failed").note == "卖家余额不足"


def test_alipay_system_error_stays_pending(alipay_keys, refund_of, monkeypatch):
    refund = refund_of("alipay")
    _alipay_answers(monkeypatch, refund={"code": "40004", "sub_code": "ACQ.SYSTEM_ERROR", "sub_msg": "系统错误"})
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    assert _state(refund) == (RefundStatus.PENDING, A.REFUNDING)


def test_payment_status_untouched_by_refund_notifications(client, wechat, refund_of, monkeypatch):
    refund = _submitted(refund_of, monkeypatch)
    notify(client, wechat, refund_body(refund))
    assert Payment.objects.get(pk=refund.payment_id).status == PaymentStatus.SUCCEEDED
