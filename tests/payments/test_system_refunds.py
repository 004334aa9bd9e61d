"""Whole-order refunds the system decides (siyu.payments.system_refunds): recorded as after-sales
refunds are, so the order closes and order.refunded fires; claimed once; the provider is called
outside the transaction. Sandbox and WeChat Pay (its HTTP calls replaced by documented answers)."""

import secrets

import pytest
from django.db import transaction

from siyu.core.errors import Conflict
from siyu.orders.models import AfterSale, AfterSaleStatus, Order, OrderStatus, OrderTimeline
from siyu.payments.models import Payment, Refund, RefundStatus
from siyu.payments.providers.base import VerifiedNotification
from siyu.payments.services import _apply
from siyu.payments.system_refunds import order_refund_whole

from ..orders.helpers import ask, pay
from .conftest import open_payment
from .test_refund_results import _wechat_answers, notify, refund_body

A = AfterSaleStatus


@pytest.fixture
def refunded_events(monkeypatch):
    from siyu.core import events

    seen = []
    real = events.event_record

    def spy(*, topic, shop_id, payload):
        if topic == "order.refunded":
            seen.append(payload)
        return real(topic=topic, shop_id=shop_id, payload=payload)

    monkeypatch.setattr("siyu.orders.aftersales.event_record", spy)
    return seen


def test_sandbox_refund_closes_the_order_and_a_second_call_does_nothing(order, refunded_events):
    pay(order)
    order.refresh_from_db()
    assert order_refund_whole(order_id=order.pk, reason="group buy: group_failed") == "refunded"
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount == order.total
    sale = AfterSale.objects.get(order=order)
    assert sale.status == A.REFUNDED and sale.amount == order.total
    refund = Refund.objects.get(payment__order=order)
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == order.total
    assert [p["order"] for p in refunded_events] == [order.pk]
    assert OrderTimeline.objects.filter(order=order, action="refund.system").count() == 1
    assert order_refund_whole(order_id=order.pk, reason="again") == "nothing"
    assert Refund.objects.filter(payment__order=order).count() == 1 and len(refunded_events) == 1


def test_several_lines_with_discount_and_postage_refund_exactly_what_was_paid(shop, shopper, address):
    from siyu.orders.checkout import order_place
    from siyu.orders.models import OrderLine

    from ..factories import make_product

    tea, cup = make_product(shop, name="茶", price=3333, stock=9), make_product(shop, name="杯", price=1001, stock=9)
    order = order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": tea.skus.get().pk, "quantity": 2}, {"sku": cup.skus.get().pk, "quantity": 1}],
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
    )
    # An order-level discount spread over the lines (as coupons and member discounts are).
    Order.objects.filter(pk=order.pk).update(discount=777, total=order.total - 777)
    order.refresh_from_db()
    pay(order)
    assert order_refund_whole(order_id=order.pk, reason="test") == "refunded"
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
    sales = AfterSale.objects.filter(order=order)
    assert sum(s.amount for s in sales) == order.paid_amount == order.refunded_amount
    for line in OrderLine.objects.filter(order=order):
        assert line.refunded_quantity == line.quantity and line.refunded_amount <= line.line_total
    assert Payment.objects.get(order=order).refunded_amount == order.paid_amount


def test_a_partly_refunded_order_gets_the_rest(order, owner):
    from siyu.payments.aftersales import aftersale_review

    pay(order)
    order.refresh_from_db()
    line = order.lines.get()
    sale = ask(order, line, "refund_only", 1, "other")
    aftersale_review(actor=owner, shop=order.shop, public_id=sale.public_id, approve=True)
    # The test transaction holds the on-commit refund call back: run it as the worker would.
    from siyu.payments.services import refund_execute

    refund_execute(refund_id=Refund.objects.get(after_sale=sale).pk)
    order.refresh_from_db()
    assert order_refund_whole(order_id=order.pk, reason="rest") in ("refunded", "nothing")
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount and order.status == OrderStatus.CLOSED


def test_an_open_request_is_superseded_and_the_refund_still_whole(order):
    pay(order)
    order.refresh_from_db()
    request = ask(order, order.lines.get(), "refund_only", 1, "other")
    assert order_refund_whole(order_id=order.pk, reason="x") == "refunded"
    request.refresh_from_db()
    assert request.status == A.REJECTED
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount


def test_unpaid_order_is_refused(order):
    with pytest.raises(Conflict) as caught:
        order_refund_whole(order_id=order.pk, reason="x")
    assert caught.value.code == "not_paid"


def test_never_inside_a_callers_transaction(order):
    pay(order)
    with pytest.raises(RuntimeError), transaction.atomic():
        order_refund_whole(order_id=order.pk, reason="x")
    assert not Refund.objects.exists()


def _paid_wechat(order):
    payment = open_payment(order, "wechatpay")
    note = VerifiedNotification(
        out_trade_no=payment.out_trade_no,
        provider_txn_id="wx" + secrets.token_hex(6),
        amount=payment.amount,
        succeeded=True,
    )
    assert _apply(provider="wechatpay", note=note, shop=order.shop) == "paid"


def test_wechat_processing_then_notified_settles_once(client, wechat, order, monkeypatch):
    _paid_wechat(order)
    calls = _wechat_answers(monkeypatch, refund="PROCESSING")
    assert order_refund_whole(order_id=order.pk, reason="group buy: group_failed") == "pending"
    refund = Refund.objects.select_related("payment").get(payment__order=order)
    assert calls == [("refund", refund.out_refund_no)] and refund.status == RefundStatus.PENDING
    assert order_refund_whole(order_id=order.pk, reason="again") == "nothing"  # claimed already: no second call
    assert len(calls) == 1
    assert notify(client, wechat, refund_body(refund)).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount


def test_wechat_refusal_is_due_again_and_a_later_call_sends_it_again(wechat, order, monkeypatch):
    _paid_wechat(order)
    _wechat_answers(monkeypatch, refund="ABNORMAL")
    assert order_refund_whole(order_id=order.pk, reason="x") == "failed"
    sale = AfterSale.objects.get(order=order)
    assert sale.status == A.APPROVED  # in finance's queue, the provider's reason on the timeline
    calls = _wechat_answers(monkeypatch, refund="SUCCESS")
    assert order_refund_whole(order_id=order.pk, reason="x") == "refunded"
    assert len(calls) == 1 and AfterSale.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED
