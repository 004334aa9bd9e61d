"""A refund result delivered many times in parallel, racing our own query, settles the refund once
(PostgreSQL, real threads with their own connections)."""

import pytest
from django.test import Client

from siyu.orders.models import AfterSaleStatus, Order, OrderTimeline
from siyu.payments.models import Refund, RefundStatus
from siyu.payments.services import refund_check, refund_execute

from ..concurrency import run_parallel
from .test_refund_results import _wechat_answers, refund_body, refund_of  # noqa: F401 - fixtures
from .test_wechatpay_notify import sign

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


@pytest.mark.parametrize(
    "status, sale_after", [("SUCCESS", AfterSaleStatus.REFUNDED), ("ABNORMAL", AfterSaleStatus.APPROVED)]
)
def test_parallel_notifications_and_queries_settle_once(wechat, refund_of, monkeypatch, status, sale_after):  # noqa: F811
    refund = refund_of("wechatpay")
    _wechat_answers(monkeypatch, refund="PROCESSING", query=status)
    assert refund_execute(refund_id=refund.pk) == RefundStatus.PENDING
    body = refund_body(refund, status=status)

    def deliver(kind):
        if kind == "query":
            return refund_check(refund_id=refund.pk)
        answer = Client().post(
            "/api/payments/notify/wechatpay/", body, content_type="application/json", headers=sign(wechat, body)
        )
        return answer.status_code

    results = run_parallel(deliver, [("notify",)] * 12 + [("query",)] * 4, workers=16)
    assert results.count(200) == 12, results
    refund.refresh_from_db()
    assert refund.status == (RefundStatus.SUCCEEDED if status == "SUCCESS" else RefundStatus.FAILED)
    assert refund.after_sale.__class__.objects.get(pk=refund.after_sale_id).status == sale_after
    order = Order.objects.get(pk=refund.payment.order_id)
    action = "refund" if status == "SUCCESS" else "refund.failed"
    assert OrderTimeline.objects.filter(order=order, action=action).count() == 1
    assert Refund.objects.filter(status=RefundStatus.PENDING).count() == 0
