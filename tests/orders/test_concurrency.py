"""Real concurrency on PostgreSQL: threads with their own connections racing through the services."""

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from siyu.accounts.models import Address, Shopper
from siyu.catalog.models import Sku
from siyu.core.crypto import lookup_hash
from siyu.core.errors import DomainError
from siyu.core.models import OutboxEvent
from siyu.orders import aftersales, lifecycle
from siyu.orders.checkout import order_place
from siyu.orders.models import AfterSale, Order, OrderStatus, OrderTimeline
from siyu.payments.models import Payment, Refund
from siyu.payments.services import aftersale_decide, payment_notify

from ..factories import make_product
from .helpers import pay, place, sandbox_notice

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set SIYU_TEST_DATABASE_URL); SQLite serialises writers")


def run_parallel(func, args_list, workers=50):
    """Run func(*args) for each args in parallel threads, all released at once by a barrier."""
    barrier = threading.Barrier(min(workers, len(args_list)))

    def call(args):
        try:
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            return func(*args)
        except DomainError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, args_list))


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
    run_parallel(lambda pid: aftersale_decide(actor=owner, shop=shop, public_id=pid, approve=True), decisions, 12)
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
