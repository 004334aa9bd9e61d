"""Starting a payment and recording one by hand: only shopper-facing providers, checked before any
row is written; never inside a caller's transaction; one open payment per order and provider; a
manual transfer on a paid order is refused before anything is written."""

import pytest
from django.db import transaction

from siyu.accounts.roles import FINANCE
from siyu.core.errors import Conflict, InvalidInput
from siyu.orders import lifecycle
from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Payment, Refund
from siyu.payments.providers.sandbox import SandboxProvider
from siyu.payments.services import payment_record_manual, payment_start, refund_execute

from ..factories import make_staff, sign_in_shopper
from ..orders.helpers import pay

API = "/api/v1"


def start(order, provider="sandbox"):
    return payment_start(shop=order.shop, shopper=order.shopper, order_public_id=order.public_id, provider=provider)


@pytest.mark.parametrize("provider", ["manual", "wechatpay", "alipay", "paypal", ""])
def test_only_offered_providers_start_and_nothing_is_written(order, provider):
    with pytest.raises(InvalidInput) as exc:
        start(order, provider)
    assert exc.value.code == "unknown_provider" and exc.value.status == 400
    assert not Payment.objects.exists()


def test_the_manual_provider_is_refused_at_the_api_door(client, order):
    sign_in_shopper(client, order.shopper)
    url = f"{API}/storefront/orders/{order.public_id}/pay"
    answer = client.post(url, {"provider": "manual"}, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["code"] == "unknown_provider"
    assert not Payment.objects.exists()


def test_starting_twice_reuses_the_open_payment(order):
    first, second = start(order), start(order)
    assert first.url == second.url and Payment.objects.filter(order=order).count() == 1


def test_never_inside_a_callers_transaction(order, monkeypatch):
    asked = []
    monkeypatch.setattr(SandboxProvider, "start", lambda self, **kw: asked.append(kw))
    with pytest.raises(RuntimeError), transaction.atomic():
        start(order)
    assert asked == [] and not Payment.objects.exists()


def test_refund_execute_never_inside_a_callers_transaction(order, monkeypatch):
    pay(order)
    payment = Payment.objects.get(order=order)
    refund = Refund.objects.create(shop=order.shop, payment=payment, out_refund_no="Rnested", amount=100)
    asked = []
    monkeypatch.setattr(SandboxProvider, "refund", lambda self, **kw: asked.append(kw))
    with pytest.raises(RuntimeError), transaction.atomic():
        refund_execute(refund_id=refund.pk)
    assert asked == [] and Refund.objects.get(pk=refund.pk).status == "pending"


def record(order, member, reference="BANK0001"):
    return payment_record_manual(
        actor=member, shop=order.shop, order_public_id=order.public_id, amount=order.total, reference=reference
    )


def test_manual_payment_on_a_paid_order_is_refused_before_writing(order, owner):
    pay(order)
    payments, refunds = Payment.objects.count(), Refund.objects.count()
    with pytest.raises(Conflict) as exc:
        record(order, make_staff(order.shop, role=FINANCE))
    assert exc.value.code == "already_paid" and exc.value.status == 409
    assert (Payment.objects.count(), Refund.objects.count()) == (payments, refunds)


def test_manual_payment_on_a_paid_order_is_409_at_the_api(client, order, owner):
    pay(order)
    client.force_login(make_staff(order.shop, role=FINANCE).user)
    answer = client.post(
        f"{API}/console/orders/{order.public_id}/manual-payment",
        {"amount_fen": order.total, "reference": "BANK0002"},
        content_type="application/json",
    )
    assert answer.status_code == 409 and answer.json()["code"] == "already_paid"
    assert not Refund.objects.exists() and Payment.objects.filter(provider="manual").count() == 0


def test_manual_payment_still_reinstates_a_cancelled_order(order, owner):
    lifecycle.order_cancel(order_id=order.pk, actor="system")
    assert record(order, owner) == "reinstated"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    with pytest.raises(Conflict) as exc:  # the same transfer again: the order is paid now
        record(order, owner)
    assert exc.value.code == "already_paid"
    assert Payment.objects.filter(provider="manual").count() == 1 and not Refund.objects.exists()
