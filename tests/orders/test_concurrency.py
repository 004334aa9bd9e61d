"""Real concurrency on PostgreSQL: threads with their own connections racing through the services."""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.models import Address, Shopper
from siyu.catalog.models import Sku
from siyu.core.crypto import lookup_hash
from siyu.core.errors import DomainError
from siyu.core.models import OutboxEvent
from siyu.orders import lifecycle
from siyu.orders.checkout import order_place
from siyu.orders.models import AfterSale, Order, OrderStatus, OrderTimeline
from siyu.payments import aftersales
from siyu.payments.aftersales import aftersale_review
from siyu.payments.models import Payment, Refund
from siyu.payments.services import payment_notify
from tests.concurrency import run_parallel

from ..factories import make_product
from .helpers import pay, place, sandbox_notice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def make_buyers(shop, n):
    shoppers = Shopper.objects.bulk_create(
        [
            Shopper(phone_hash=lookup_hash(f"1370000{i:04d}"), phone=f"1370000{i:04d}", share_code=secrets.token_hex(5))
            for i in range(n)
        ]
    )
    shoppers = list(Shopper.objects.filter(phone_hash__in=[s.phone_hash for s in shoppers]))
    Address.objects.bulk_create(
        [
            Address(
                shop=shop,
                shopper=s,
                public_id=secrets.token_hex(6),
                recipient="买家",
                phone="13700000000",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                detail="路 1 号",
                is_default=True,
            )
            for s in shoppers
        ]
    )
    return [(s, Address.objects.get(shopper=s)) for s in shoppers]


def test_200_buyers_50_units_never_oversell(shop):
    product = make_product(shop, name="秒杀茶", price=990, stock=50)
    sku = product.skus.get()
    buyers = make_buyers(shop, 200)

    def buy(shopper, address):
        return order_place(
            shop=shop,
            shopper=shopper,
            items=[{"sku": sku.pk, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key=secrets.token_hex(8),
        )

    results = run_parallel(buy, buyers, workers=60)
    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(orders) == 50 and len(refused) == 150
    assert {r.code for r in refused} <= {"insufficient_stock", "items_unavailable"}
    assert Sku.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.count() == 50


def test_same_checkout_submitted_in_parallel_makes_one_order(shop, shopper, address):
    product = make_product(shop, stock=10)
    sku = product.skus.get()

    def submit():
        return order_place(
            shop=shop,
            shopper=shopper,
            items=[{"sku": sku.pk, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key="same-key-123",
        )

    results = run_parallel(submit, [()] * 10, workers=10)
    assert len({r.pk for r in results}) == 1
    assert Sku.objects.get(pk=sku.pk).stock == 9


def test_20_parallel_notifications_pay_once(shop, shopper, address):
    order = place(shop, shopper, address, make_product(shop, stock=5))
    headers, body = sandbox_notice(order)
    results = run_parallel(lambda: payment_notify(provider="sandbox", headers=headers, body=body), [()] * 20, 20)
    assert sorted(results).count("paid") == 1 and results.count("duplicate") == 19
    assert Payment.objects.filter(order=order, status="succeeded").count() == 1
    assert OrderTimeline.objects.filter(order=order, action="pay").count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid").count() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and order.paid_amount == order.total


def test_racing_refunds_never_exceed_paid(shop, shopper, owner, address):
    products = [make_product(shop, name=f"p{i}", price=1000, stock=5) for i in range(4)]
    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        idempotency_key="refund-race-1",
        items=[{"sku": p.skus.get().pk, "quantity": 1} for p in products],
    )
    pay(order)
    sales = [
        aftersales.aftersale_request(
            shop=shop,
            shopper=shopper,
            order_public_id=order.public_id,
            line_id=line.pk,
            kind="refund_only",
            quantity=1,
            reason_code="other",
        )
        for line in order.lines.all()
    ]
    # Make every request ask for the whole order: together they would refund four times what was paid.
    # (the extra counts as postage, so each line's own refunded share stays within the line)
    AfterSale.objects.filter(order=order).update(amount=order.total, shipping_amount=order.total - 1000)
    decisions = [(s.public_id,) for s in sales for _ in range(3)]  # each also approved three times at once
    run_parallel(lambda pid: aftersale_review(actor=owner, shop=shop, public_id=pid, approve=True), decisions, 12)
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    refunded = sum(Refund.objects.filter(payment=payment, status="succeeded").values_list("amount", flat=True))
    assert refunded == order.refunded_amount == order.total <= order.paid_amount
    assert payment.refunded_amount == order.total
    assert AfterSale.objects.filter(order=order, status="refunded").count() == 1


def test_late_payment_racing_the_timeout(shop, shopper, address):
    """The payment notification and the auto-cancel race; money and stock always end consistent."""
    product = make_product(shop, stock=20)
    sku = product.skus.get()
    orders = [place(shop, shopper, address, product) for _ in range(10)]
    notices = [sandbox_notice(o) for o in orders]
    later = timezone.now() + timedelta(hours=1)
    jobs = [("notify", h, b) for h, b in notices] + [("expire", None, None)] * 5

    def job(kind, headers, body):
        if kind == "notify":
            return payment_notify(provider="sandbox", headers=headers, body=body)
        return lifecycle.orders_expire_due(now=later)

    run_parallel(job, jobs, workers=15)
    paid = Order.objects.filter(status=OrderStatus.PAID).count()
    assert paid + Order.objects.filter(status=OrderStatus.CANCELLED).count() == 10
    assert Sku.objects.get(pk=sku.pk).stock == 20 - paid
    # every order got its money: it is paid, or the payment is refunded in full
    for order in Order.objects.all():
        payment = Payment.objects.get(order=order)
        assert payment.status == "succeeded"
        if order.status == OrderStatus.CANCELLED:
            assert Refund.objects.get(payment=payment).amount == payment.amount


# --- the global lock order (siyu/core/locks.py): pairs of paths that share rows --------------


def _paid_pair_order(shop, shopper, address, n):
    products = [make_product(shop, name=f"对{n}-{i}", price=1000, stock=5) for i in range(2)]
    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        idempotency_key=f"pair-{n}-{secrets.token_hex(4)}",
        items=[{"sku": p.skus.get().pk, "quantity": 1} for p in products],
    )
    pay(order)
    return order


def test_refund_settling_while_another_request_is_approved(shop, shopper, owner, address, monkeypatch):
    """refund_execute used to lock refund → payment → after-sale → order while an approval locked
    after-sale → order → payment: run side by side they deadlocked. Both now take the order first."""
    from siyu.payments import aftersales as public
    from siyu.payments.services import refund_execute

    monkeypatch.setattr(public, "refund_enqueue", lambda refund_id: None)  # each refund runs when we say
    jobs = []
    for n in range(15):
        order = _paid_pair_order(shop, shopper, address, n)
        first, second = (aftersales_request(order, line) for line in order.lines.order_by("id"))
        aftersale_review(actor=owner, shop=shop, public_id=first.public_id, approve=True)
        jobs += [("settle", Refund.objects.get(after_sale=first).pk), ("approve", second.public_id)]

    def job(kind, key):
        if kind == "settle":
            return refund_execute(refund_id=key)
        return aftersale_review(actor=owner, shop=shop, public_id=key, approve=True)

    results = run_parallel(job, jobs, workers=30)
    assert not [r for r in results if isinstance(r, Exception)], results
    for refund in Refund.objects.filter(status="pending"):
        refund_execute(refund_id=refund.pk)
    for order in Order.objects.all():
        payment = Payment.objects.get(order=order)
        refunded = sum(Refund.objects.filter(payment=payment, status="succeeded").values_list("amount", flat=True))
        assert order.refunded_amount == refunded == payment.refunded_amount == order.paid_amount
        assert order.status == OrderStatus.CLOSED
        assert AfterSale.objects.filter(order=order, status="refunded").count() == 2


def aftersales_request(order, line):
    return aftersales.aftersale_request(
        shop=order.shop,
        shopper=order.shopper,
        order_public_id=order.public_id,
        line_id=line.pk,
        kind="refund_only",
        quantity=1,
        reason_code="other",
    )


def test_notification_racing_its_cancellation(shop, shopper, address):
    """Each order's payment notification and its cancellation, released together: no deadlock or
    500, and every order ends paid (stock was there) with its money, or cancelled and refunded."""
    product = make_product(shop, stock=100)
    orders = [place(shop, shopper, address, product) for _ in range(15)]
    jobs = []
    for order in orders:
        headers, body = sandbox_notice(order)
        jobs += [("notify", order.pk, (headers, body)), ("cancel", order.pk, None)]

    def job(kind, order_id, notice):
        if kind == "notify":
            return payment_notify(provider="sandbox", headers=notice[0], body=notice[1])
        return lifecycle.order_cancel(order_id=order_id, actor="system", reason="payment timeout")

    results = run_parallel(job, jobs, workers=30)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)], results
    assert {r.code for r in results if isinstance(r, DomainError)} <= {"bad_transition"}
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        payment = Payment.objects.get(order=order)
        assert payment.status == "succeeded" and order.status == OrderStatus.PAID
        assert order.paid_amount == payment.amount and not Refund.objects.filter(payment=payment).exists()
    assert Sku.objects.get(product=product).stock == 100 - len(orders)


def test_parallel_payment_starts_open_one_payment(shop, shopper, address):
    from siyu.payments.services import payment_start

    order = place(shop, shopper, address, make_product(shop, stock=5))

    def start():
        return payment_start(shop=shop, shopper=shopper, order_public_id=order.public_id, provider="sandbox")

    results = run_parallel(start, [()] * 20, workers=20)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r.url for r in results}) == 1
    assert Payment.objects.filter(order=order).count() == 1
