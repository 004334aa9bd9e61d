"""The reconcile task asks the provider about payments whose notification never arrived.

WeChat Pay's servers cannot be reached here, so the one network call (the SDK's `query`) is
replaced by the answer WeChat documents; everything after it is the real code path.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.orders.models import OrderStatus
from siyu.payments.models import Payment
from siyu.payments.services import payments_reconcile

from .conftest import APPID, MCHID

pytestmark = pytest.mark.django_db


def _answer(payment, state):
    return 200, json.dumps(
        {
            "appid": APPID,
            "mchid": MCHID,
            "out_trade_no": payment.out_trade_no,
            "transaction_id": "4200001",
            "trade_state": state,
            "amount": {"total": payment.amount, "currency": "CNY"},
        }
    )


@pytest.mark.parametrize("state, paid", [("SUCCESS", True), ("NOTPAY", False)])
def test_lost_notification_is_recovered_by_query(wechat, order, monkeypatch, state, paid):  # noqa: F811
    from wechatpayv3 import WeChatPay

    payment = Payment.objects.create(
        shop=order.shop, order=order, provider="wechatpay", out_trade_no="P123456789", amount=order.total
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    calls = []

    def fake_query(self, out_trade_no=None, **kwargs):
        calls.append(out_trade_no)
        return _answer(payment, state)

    monkeypatch.setattr(WeChatPay, "query", fake_query)
    result = payments_reconcile()
    order.refresh_from_db()
    assert calls == ["P123456789"] and result["payments_checked"] == 1
    assert (order.status == OrderStatus.PAID) is paid
    assert payments_reconcile()["payments_settled"] == 0  # nothing twice
