from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.catalog.models import ReturnPolicy, Sku
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.models import OutboxEvent
from siyu.orders import lifecycle
from siyu.orders.checkout import cart_lines, cart_set, order_place, order_quote
from siyu.orders.fulfilment import order_ship, orders_ship_batch, shipping_rows_parse
from siyu.orders.models import AfterSaleStatus, Order, OrderStatus
from siyu.payments import aftersales
from siyu.payments.aftersales import aftersale_receive_return, aftersale_review
from siyu.payments.models import Payment, Refund
from siyu.payments.providers.base import NotificationRejected
from siyu.payments.services import payment_notify

from ..factories import ShippingTemplateFactory, make_product
from .helpers import ask, deliver, pay, place, sandbox_notice

pytestmark = pytest.mark.django_db(transaction=True)


def stock(product):
    return Sku.objects.get(product=product).stock


def test_checkout_prices_on_server_and_is_idempotent(shop, shopper, address, limited):
    template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=20000)
    limited.shipping_template = template
    limited.save()
    sku = limited.skus.get()
    items = [{"sku": sku.pk, "quantity": 2, "price": 1}]  # a client price is ignored
    order = order_place(
        shop=shop, shopper=shopper, items=items, address_id=address.public_id, idempotency_key="key-00000001"
    )
    assert (order.subtotal, order.shipping_fee, order.total) == (10000, 800, 10800)
    again = order_place(
        shop=shop, shopper=shopper, items=items, address_id=address.public_id, idempotency_key="key-00000001"
    )
    assert again.pk == order.pk and stock(limited) == 3
    assert len(order.public_id) == 16 and len(order.number) == 20
    assert OutboxEvent.objects.filter(topic="order.placed").count() == 1


def test_order_refuses_oversell_and_bad_input(shop, shopper, address, limited):
    with pytest.raises(Conflict):
        place(shop, shopper, address, limited, quantity=6)
    assert stock(limited) == 5 and not Order.objects.exists()
    for items in ([], [{"sku": "x", "quantity": 1}], [{"sku": 1, "quantity": 0}], "nope"):
        with pytest.raises(InvalidInput):
            order_place(
                shop=shop, shopper=shopper, items=items, address_id=address.public_id, idempotency_key="key-00000002"
            )
    with pytest.raises(InvalidInput):
        place(shop, shopper, address, limited, idempotency_key="short")


def test_no_returns_needs_confirmation(shop, shopper, address):
    custom = make_product(shop, name="定制", return_policy=ReturnPolicy.NO_RETURNS)
    with pytest.raises(InvalidInput) as exc:
        place(shop, shopper, address, custom)
    assert exc.value.code == "confirm_no_returns"
    assert place(shop, shopper, address, custom, confirm_no_returns=True).no_returns_confirmed


def test_cancel_releases_stock_once(shop, shopper, address, limited):
    order = place(shop, shopper, address, limited, quantity=2)
    lifecycle.order_cancel(order_id=order.pk, actor=shopper)
    assert stock(limited) == 5
    with pytest.raises(Conflict):
        lifecycle.order_cancel(order_id=order.pk, actor=shopper)
    assert stock(limited) == 5


def test_unpaid_orders_expire(shop, shopper, address, limited):
    order = place(shop, shopper, address, limited, quantity=2)
    assert lifecycle.orders_expire_due() == 0
    assert lifecycle.orders_expire_due(now=timezone.now() + timedelta(minutes=31)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and stock(limited) == 5


def test_pay_ship_receive_timeline_and_events(shop, shopper, owner, address, limited):
    order = place(shop, shopper, address, limited, quantity=2)
    assert pay(order) == "paid"
    headers, body = sandbox_notice(order)
    assert payment_notify(provider="sandbox", headers=headers, body=body) == "duplicate"
    order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF123456")
    lifecycle.order_confirm_receipt(order_id=order.pk, actor=shopper, shopper_id=shopper.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.paid_amount == 10000
    steps = list(order.timeline.values_list("action", "from_status", "to_status"))
    assert steps == [
        ("place", "", "pending_payment"),
        ("pay", "pending_payment", "paid"),
        ("ship", "paid", "shipped"),
        ("receive", "shipped", "completed"),
    ]
    # (the shop's first sale also records customer.created for the buyer)
    topics = list(OutboxEvent.objects.filter(topic__startswith="order.").order_by("id").values_list("topic", flat=True))
    assert topics == ["order.placed", "order.paid", "order.shipped", "order.completed"]


def test_tampered_or_mismatched_notifications_refused(shop, shopper, address, limited):
    order = place(shop, shopper, address, limited)
    headers, body = sandbox_notice(order)
    with pytest.raises(NotificationRejected):
        payment_notify(provider="sandbox", headers=headers, body=body.replace(b"5000", b"1"))
    headers, body = sandbox_notice(order, amount=1)
    with pytest.raises(NotificationRejected) as exc:
        payment_notify(provider="sandbox", headers=headers, body=body)
    assert exc.value.code == "amount_mismatch"
    headers, body = sandbox_notice(order, timestamp=int(timezone.now().timestamp()) - 600)
    with pytest.raises(NotificationRejected) as exc:
        payment_notify(provider="sandbox", headers=headers, body=body)
    assert exc.value.code == "stale_notification"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT


def test_late_payment_reinstates_when_stock_allows(shop, shopper, address, limited):
    order = place(shop, shopper, address, limited, quantity=2)
    headers, body = sandbox_notice(order)
    lifecycle.orders_expire_due(now=timezone.now() + timedelta(hours=1))
    assert payment_notify(provider="sandbox", headers=headers, body=body) == "reinstated"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and stock(limited) == 3


def test_late_payment_refunded_when_sold_out(shop, shopper, address, limited):
    order = place(shop, shopper, address, limited, quantity=5)
    headers, body = sandbox_notice(order)
    lifecycle.orders_expire_due(now=timezone.now() + timedelta(hours=1))
    place(shop, shopper, address, limited, quantity=5)  # someone else bought everything
    assert payment_notify(provider="sandbox", headers=headers, body=body) == "needs_refund"
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    refund = Refund.objects.get(payment=payment)
    assert order.status == OrderStatus.CANCELLED and stock(limited) == 0
    assert payment.status == "succeeded" and refund.amount == payment.amount and refund.status == "succeeded"


def test_late_payment_of_a_promoted_order_is_refunded_not_reinstated(shop, shopper, address, limited):
    # A bargain, group seat or allowance the order held was given back when it was cancelled.
    order = place(shop, shopper, address, limited, quantity=2)
    order.lines.update(promotion="bargain:B1")
    headers, body = sandbox_notice(order)
    lifecycle.orders_expire_due(now=timezone.now() + timedelta(hours=1))
    assert payment_notify(provider="sandbox", headers=headers, body=body) == "needs_refund"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and stock(limited) == 5


def test_refund_only_before_shipping_refunds_postage_and_closes(shop, shopper, owner, address, limited):
    limited.shipping_template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=None)
    limited.save()
    order = place(shop, shopper, address, limited, quantity=2)
    pay(order)
    line = order.lines.get()
    sale = ask(order, line, "refund_only", 2, "other")
    assert sale.amount == 10800
    sale = aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    order.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED and order.refunded_amount == 10800
    assert order.status == OrderStatus.CLOSED
    assert OutboxEvent.objects.filter(topic="order.refunded").count() == 1


def test_return_within_seven_days_restocks_and_refunds_partially(shop, shopper, owner, address, limited):
    order = place(shop, shopper, address, limited, quantity=3)
    deliver(order, owner)
    line = order.lines.get()
    sale = ask(order, line, "return_refund", 1, "no_reason")
    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    aftersales.aftersale_return_shipped(
        shop=shop, shopper=shopper, public_id=sale.public_id, carrier="中通", tracking="ZT2"
    )
    sale = aftersale_receive_return(actor=owner, shop=shop, public_id=sale.public_id)
    order.refresh_from_db()
    assert sale.status == AfterSaleStatus.REFUNDED and order.refunded_amount == 5000
    assert order.status == OrderStatus.COMPLETED and stock(limited) == 3


def test_return_window_counts_from_the_day_after_receipt(shop, shopper, owner, address, limited):
    order = place(shop, shopper, address, limited)
    deliver(order, owner)
    line = order.lines.get()
    received = timezone.localtime(timezone.now()).replace(hour=23, minute=0) - timedelta(days=7)
    Order.objects.filter(pk=order.pk).update(received_at=received)
    sale = ask(order, line, "return_refund", 1, "no_reason")
    assert sale.status == "requested"  # day 7 after receipt is still inside
    sale.status = "withdrawn"
    sale.save()
    Order.objects.filter(pk=order.pk).update(received_at=received - timedelta(days=1))
    with pytest.raises(Conflict) as exc:
        ask(order, line, "return_refund", 1, "no_reason")
    assert exc.value.code == "window_closed"


def test_quality_only_policy_refuses_no_reason_returns(shop, shopper, owner, address):
    food = make_product(shop, name="坚果", return_policy=ReturnPolicy.QUALITY_ONLY)
    order = place(shop, shopper, address, food)
    deliver(order, owner)
    line = order.lines.get()
    with pytest.raises(Conflict):
        ask(order, line, "return_refund", 1, "no_reason")
    ask(order, line, "return_refund", 1, "quality")


def test_partial_shipment_and_batch_ship(shop, shopper, owner, address, limited):
    other = make_product(shop, name="杯子", price=3000, stock=10)
    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        idempotency_key="key-batch-1",
        items=[{"sku": limited.skus.get().pk, "quantity": 1}, {"sku": other.skus.get().pk, "quantity": 2}],
    )
    pay(order)
    first = order.lines.order_by("id").first()
    order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1", lines={first.pk: 1})
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    second = place(shop, shopper, address, limited)
    pay(second)
    csv_bytes = (
        "订单号,快递公司,快递单号\n"
        f"{order.number},顺丰,SF2\n{second.number},圆通,YT9\nnope,顺丰,SF3\n{order.number},顺丰,SF4\n"
    ).encode("gbk")
    rows = shipping_rows_parse(filename="ship.csv", content=csv_bytes)
    result = orders_ship_batch(actor=owner, shop=shop, rows=rows)
    assert result["shipped"] == 2
    assert [(r["row"], r["code"]) for r in result["rejected"]] == [(4, "not_found"), (5, "bad_transition")]
    assert set(Order.objects.values_list("status", flat=True)) == {"shipped"}


def test_cart(shop, shopper, limited):
    sku = limited.skus.get()
    cart_set(shop=shop, shopper=shopper, sku_id=sku.pk, quantity=2, add=True)
    cart_set(shop=shop, shopper=shopper, sku_id=sku.pk, quantity=1, add=True)
    assert [ln.quantity for ln in cart_lines(shop=shop, shopper=shopper)] == [3]
    cart_set(shop=shop, shopper=shopper, sku_id=sku.pk, quantity=0)
    assert cart_lines(shop=shop, shopper=shopper) == []
    quote = order_quote(shop=shop, items=[{"sku": sku.pk, "quantity": 9}])
    assert quote.problems == {str(sku.pk): "only 5 left"}


def test_refunds_of_a_discounted_order_return_exactly_what_was_paid(shop, shopper, owner, address, limited):
    order = place(shop, shopper, address, limited, quantity=3)
    Order.objects.filter(pk=order.pk).update(discount=1000, total=14000)  # as a member discount would
    order.refresh_from_db()
    pay(order)
    line = order.lines.get()
    first = ask(order, line, "refund_only", 1, "other")
    assert first.amount == 14000 // 3
    aftersale_review(actor=owner, shop=shop, public_id=first.public_id, approve=True)
    rest = ask(order, line, "refund_only", 2, "other")
    aftersale_review(actor=owner, shop=shop, public_id=rest.public_id, approve=True)
    order.refresh_from_db()
    assert order.refunded_amount == order.paid_amount == 14000 and order.status == OrderStatus.CLOSED


def test_two_refunds_in_flight_close_the_order_when_the_last_settles(shop, shopper, owner, address, monkeypatch):
    """Both refunds reserved before either settles: the first to settle must not close the order
    (its refunded total already counts the other), or the second one could never settle."""
    from siyu.payments.services import refund_execute

    monkeypatch.setattr(aftersales, "refund_enqueue", lambda refund_id: None)
    second_product = make_product(shop, name="杯子", price=3000, stock=5)
    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        idempotency_key="key-two-in-flight",
        items=[{"sku": p.skus.get().pk, "quantity": 1} for p in (make_product(shop, name="茶"), second_product)],
    )
    pay(order)
    sales = [ask(order, line, "refund_only", 1, "other") for line in order.lines.order_by("id")]
    for sale in sales:
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    first, second = (Refund.objects.get(after_sale=s) for s in sales)
    assert refund_execute(refund_id=first.pk) == "succeeded"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID  # one refund still at the provider
    assert refund_execute(refund_id=second.pk) == "succeeded"
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount
