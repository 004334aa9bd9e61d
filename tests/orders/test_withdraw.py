"""The shopper withdraws a request before the shop acts on it, and may ask again in the window."""

import pytest
from django.utils import translation

from siyu.core.errors import Conflict, NotFound
from siyu.core.models import AuditEntry
from siyu.orders.models import AfterSale, AfterSaleStatus, Order
from siyu.orders.states import timeline_entries
from siyu.payments.aftersales import aftersale_review, aftersale_withdraw

from ..factories import make_product, make_shopper
from .helpers import ask, deliver, place

A = AfterSaleStatus


@pytest.fixture
def received(shop, shopper, address, owner):
    order = place(shop, shopper, address, make_product(shop, name="龙井", price=5000, stock=5))
    deliver(order, owner)
    return Order.objects.get(pk=order.pk)


def test_withdraw_then_ask_again(received, shop, shopper):
    line = received.lines.get()
    sale = ask(received, line, "return_refund", 1, "no_reason")
    aftersale_withdraw(shop=shop, shopper=shopper, public_id=sale.public_id)
    assert AfterSale.objects.get(pk=sale.pk).status == A.WITHDRAWN
    assert AuditEntry.objects.filter(action="aftersale.withdrawn").count() == 1
    again = ask(received, line, "return_refund", 1, "no_reason")  # a withdrawn request is not an open one
    assert again.status == A.REQUESTED
    with pytest.raises(Conflict):  # the new one is open
        ask(received, line, "exchange", 1, "no_reason")
    with translation.override("en"):
        actions = [e["action"] for e in timeline_entries(order=Order.objects.get(pk=received.pk), for_shopper=True)]
    assert actions[-2:] == ["Request withdrawn", "Asked to return and refund"]


def test_withdraw_only_before_the_shop_acts(received, shop, shopper, owner):
    sale = ask(received, received.lines.get(), "return_refund", 1, "no_reason")
    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    with pytest.raises(Conflict) as refused:
        aftersale_withdraw(shop=shop, shopper=shopper, public_id=sale.public_id)
    assert refused.value.status == 409
    assert AfterSale.objects.get(pk=sale.pk).status == A.AWAITING_RETURN


def test_staff_cannot_decide_a_withdrawn_request(received, shop, shopper, owner):
    sale = ask(received, received.lines.get(), "refund_only", 1, "quality")
    aftersale_withdraw(shop=shop, shopper=shopper, public_id=sale.public_id)
    with pytest.raises(Conflict):
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    with pytest.raises(Conflict):  # and twice is refused too
        aftersale_withdraw(shop=shop, shopper=shopper, public_id=sale.public_id)


def test_another_shopper_cannot_withdraw(received, shop):
    sale = ask(received, received.lines.get(), "refund_only", 1, "quality")
    with pytest.raises(NotFound):
        aftersale_withdraw(shop=shop, shopper=make_shopper(), public_id=sale.public_id)
    assert AfterSale.objects.get(pk=sale.pk).status == A.REQUESTED


def test_the_order_page_withdraws(received, shop, shopper):
    from django.test import Client
    from django.urls import reverse

    from ..factories import sign_in_shopper

    sale = ask(received, received.lines.get(), "return_refund", 1, "no_reason")
    client = Client()
    sign_in_shopper(client, shopper)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("storefront:order", args=[received.public_id])).content.decode()
    assert "Withdraw request" in page
    response = client.post(
        reverse("storefront:order_action", args=[received.public_id]),
        {"action": "withdraw", "after_sale": sale.public_id},
    )
    assert response.status_code == 302
    assert AfterSale.objects.get(pk=sale.pk).status == A.WITHDRAWN
    page = client.get(reverse("storefront:order", args=[received.public_id])).content.decode()
    assert "Withdraw request" not in page and "Request withdrawn" in page
