"""After-sales in the console: the list and its filter, approve → refunded, reject with a note,
return received → refunded, retrying a failed refund, permissions and isolation."""

import pytest
from django.urls import reverse

from siyu.accounts.roles import SERVICE
from siyu.orders import lifecycle
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import AfterSale, AfterSaleStatus, OrderStatus
from siyu.payments import aftersales
from siyu.payments.models import Refund
from siyu.payments.providers.base import RefundResult
from siyu.payments.providers.sandbox import SandboxProvider

from ..factories import make_product, make_staff
from ..orders.helpers import pay, place
from .helpers import login_client
from .test_orders import make_address

# Refunds are sent to the provider after the transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)
A = AfterSaleStatus


@pytest.fixture
def paid(shop, shopper):
    order = place(shop, shopper, make_address(shop, shopper), make_product(shop, name="龙井茶", price=5000), quantity=2)
    pay(order)
    return order


def request_refund(order, *, kind="refund_only", quantity=2, reason_code="other"):
    line = order.lines.get()
    return aftersales.aftersale_request(
        shop=order.shop,
        shopper=order.shopper,
        order_public_id=order.public_id,
        line_id=line.pk,
        kind=kind,
        quantity=quantity,
        reason_code=reason_code,
        reason="买多了",
    )


def url(name, sale):
    return reverse(f"console:{name}", args=[sale.public_id])


def test_list_and_status_filter(en_client, shop, paid, django_assert_num_queries):
    sale = request_refund(paid)
    page = en_client.get(reverse("console:aftersales")).content.decode()
    assert paid.number in page and "买多了" in page and "Refund only" in page and "Requested" in page
    assert en_client.get(reverse("console:aftersales"), {"status": "refunded"}).context["rows"] == []
    rows = en_client.get(reverse("console:aftersales"), {"status": "requested"}).context["rows"]
    assert [r["sale"].pk for r in rows] == [sale.pk] and rows[0]["actions"]["decide"]


def test_list_query_count_is_fixed(staff_client, shop, shopper, django_assert_num_queries):
    address = make_address(shop, shopper)
    product = make_product(shop, name="茶", price=1000, stock=100)

    def one_more():
        order = place(shop, shopper, address, product)
        pay(order)
        request_refund(order, quantity=1)

    one_more()
    # shop, user, staff, count, page rows with order and line
    with django_assert_num_queries(5):
        assert staff_client.get(reverse("console:aftersales")).status_code == 200
    for _ in range(4):
        one_more()
    with django_assert_num_queries(5):
        response = staff_client.get(reverse("console:aftersales"), {"status": "requested"})
    assert len(response.context["rows"]) == 5


def test_approve_refunds_and_closes_the_order(en_client, paid):
    sale = request_refund(paid)
    response = en_client.post(
        url("aftersale_decide", sale), {"decision": "approve", "note": "好的", "order": paid.public_id}
    )
    assert response.status_code == 302 and response.url == reverse("console:order_detail", args=[paid.public_id])
    sale.refresh_from_db()
    paid.refresh_from_db()
    assert sale.status == A.REFUNDED and sale.staff_note == "好的"
    assert paid.status == OrderStatus.CLOSED and paid.refunded_amount == 10000
    assert Refund.objects.get(after_sale=sale).status == "succeeded"
    page = en_client.get(response.url).content.decode()
    assert "it is now: Refunded." in page
    actions = [t["action"] for t in en_client.get(response.url).context["timeline"]]
    assert actions[-4:] == ["After-sale approved", "Refund approved", "Refunded", "Closed"]
    # Deciding twice is refused with a message, not a 500.
    again = en_client.post(url("aftersale_decide", sale), {"decision": "reject"})
    assert again.status_code == 302 and again.url == reverse("console:aftersales")
    assert "already handled" in en_client.get(again.url).content.decode()


def test_reject_with_a_note(en_client, paid):
    sale = request_refund(paid)
    en_client.post(url("aftersale_decide", sale), {"decision": "reject", "note": "已发货，请收货后申请"})
    sale.refresh_from_db()
    paid.refresh_from_db()
    assert sale.status == A.REJECTED and sale.staff_note == "已发货，请收货后申请"
    assert paid.status == OrderStatus.PAID and paid.refunded_amount == 0
    assert en_client.post(url("aftersale_decide", sale), {"decision": "maybe"}).status_code == 302


def test_return_received_refunds(en_client, owner, shopper, paid):
    order_ship(actor=owner, order_id=paid.pk, carrier="中通", tracking_number="ZT1")
    lifecycle.order_confirm_receipt(order_id=paid.pk, actor=shopper)
    sale = request_refund(paid, kind="return_refund", quantity=1, reason_code="no_reason")
    en_client.post(url("aftersale_decide", sale), {"decision": "approve"})
    sale.refresh_from_db()
    assert sale.status == A.AWAITING_RETURN
    aftersales.aftersale_return_shipped(
        shop=paid.shop, shopper=shopper, public_id=sale.public_id, carrier="中通", tracking="ZT2"
    )
    page = en_client.get(reverse("console:order_detail", args=[paid.public_id])).content.decode()
    assert "ZT2" in page and "Return received" in page
    response = en_client.post(url("aftersale_received", sale), {"order": paid.public_id})
    assert response.status_code == 302
    sale.refresh_from_db()
    paid.refresh_from_db()
    assert sale.status == A.REFUNDED and paid.refunded_amount == 5000 and paid.status == OrderStatus.COMPLETED


def test_failed_refund_can_be_retried(en_client, paid, monkeypatch):
    sale = request_refund(paid)
    monkeypatch.setattr(SandboxProvider, "refund", lambda self, **kw: RefundResult(succeeded=False, message="余额不足"))
    en_client.post(url("aftersale_decide", sale), {"decision": "approve"})
    sale.refresh_from_db()
    assert sale.status == A.APPROVED  # due again after the failure
    rows = en_client.get(reverse("console:aftersales")).context["rows"]
    assert rows[0]["actions"]["refund"]  # due again: the owner may send it again
    monkeypatch.undo()
    response = en_client.post(url("aftersale_retry", sale))
    assert response.status_code == 302
    sale.refresh_from_db()
    assert sale.status == A.REFUNDED
    assert sorted(Refund.objects.filter(after_sale=sale).values_list("status", flat=True)) == ["failed", "succeeded"]
    assert "The refund is sent again." in en_client.get(response.url).content.decode()


def test_customer_service_recommends_but_cannot_pay_refunds(shop, owner, paid):
    sale = request_refund(paid)
    client = login_client(make_staff(shop, role=SERVICE, username="kefu"))
    assert client.post(url("aftersale_decide", sale), {"decision": "approve"}).status_code == 302
    assert client.post(url("aftersale_refund", sale)).status_code == 403
    assert client.post(url("aftersale_retry", sale)).status_code == 403
    sale.refresh_from_db()
    assert sale.status == A.APPROVED and not Refund.objects.exists()


def test_other_shops_staff_get_404(other_client, paid):
    sale = request_refund(paid)
    prefix = "/s/other"
    for name, data in (
        ("aftersale_decide", {"decision": "approve"}),
        ("aftersale_received", {}),
        ("aftersale_refund", {}),
        ("aftersale_retry", {}),
    ):
        assert other_client.post(prefix + url(name, sale), data).status_code == 404, name
    assert AfterSale.objects.get(pk=sale.pk).status == A.REQUESTED
    assert paid.number not in other_client.get(prefix + reverse("console:aftersales")).content.decode()


def test_exchange_waits_for_stock_then_ships(en_client, owner, shopper, paid):
    from siyu.catalog.models import Sku

    order_ship(actor=owner, order_id=paid.pk, carrier="中通", tracking_number="ZT1")
    lifecycle.order_confirm_receipt(order_id=paid.pk, actor=shopper)
    sale = request_refund(paid, kind="exchange", quantity=1, reason_code="no_reason")
    line_sku = paid.lines.get().sku
    large = Sku.objects.create(
        shop=paid.shop, product=line_sku.product, spec_key="L", spec_values=["L"], price=line_sku.price, stock=0
    )
    aftersales.aftersale_review(
        actor=owner, shop=paid.shop, public_id=sale.public_id, approve=True, replacement_sku_id=large.pk
    )
    en_client.post(url("aftersale_received", sale), {"order": paid.public_id})
    assert AfterSale.objects.get(pk=sale.pk).status == A.AWAITING_STOCK
    listing = en_client.get(reverse("console:aftersales")).content.decode()
    assert "Exchange waiting for stock" in listing and "Try the stock again" in listing
    refused = en_client.post(url("aftersale_stock_retry", sale), follow=True).content.decode()
    assert "still out of stock" in refused
    Sku.objects.filter(pk=large.pk).update(stock=1)
    en_client.post(url("aftersale_stock_retry", sale))
    assert AfterSale.objects.get(pk=sale.pk).status == A.REPLACEMENT_READY
    bad = en_client.post(url("aftersale_ship_replacement", sale), {"carrier": "", "tracking_number": ""}, follow=True)
    assert "Check the carrier and tracking number" in bad.content.decode()
    en_client.post(
        url("aftersale_ship_replacement", sale), {"carrier": "顺丰", "tracking_number": "SF88", "order": paid.public_id}
    )
    sale = AfterSale.objects.get(pk=sale.pk)
    assert (sale.status, sale.replacement_tracking) == (A.REPLACEMENT_SENT, "SF88")
    page = en_client.get(reverse("console:order_detail", args=[paid.public_id])).content.decode()
    assert "SF88" in page and "Replacement shipped" in page and "Replacement reserved" in page
