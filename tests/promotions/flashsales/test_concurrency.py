"""Real threads on PostgreSQL: a rush of buyers (more than units, some trying twice) never oversells
a flash item, never lets a customer past the limit, and leaves no unit lost by the bookkeeping."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.catalog.models import Sku
from siyu.core.errors import DomainError
from siyu.orders import lifecycle
from siyu.orders.models import Order, OrderStatus
from siyu.promotions.flashsales import services
from siyu.promotions.flashsales.models import FlashItem, FlashOrder, FlashPurchase
from tests.concurrency import run_parallel

from ...factories import make_product, make_staff
from ...orders.helpers import pay
from ...orders.test_concurrency import make_buyers
from .conftest import flash_buy, make_flash

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]


def _attempt(shop, shopper, address, item):
    return flash_buy(shop, shopper, address, item)


def test_rush_never_oversells_nor_passes_the_limit(shop):
    owner = make_staff(shop, username="boss")
    product = make_product(shop, name="秒杀茶", price=1990, stock=30)
    item = make_flash(owner, shop, product, flash_stock=12, limit=1)
    buyers = make_buyers(shop, 30)
    # Every buyer once, and the first ten a second time at the same moment.
    attempts = [(shop, s, a, item) for s, a in buyers] + [(shop, s, a, item) for s, a in buyers[:10]]
    results = run_parallel(_attempt, attempts, workers=16)
    won = [r for r in results if not isinstance(r, DomainError)]
    refused = {r.code for r in results if isinstance(r, DomainError)}
    assert len(won) == 12
    assert refused <= {"flash_sale_sold_out", "flash_sale_limit"}
    per_shopper = {}
    for order in Order.objects.filter(shop=shop):
        per_shopper[order.shopper_id] = per_shopper.get(order.shopper_id, 0) + order.lines.get().quantity
    assert max(per_shopper.values()) == 1 and len(per_shopper) == 12  # nobody over the limit
    fresh = FlashItem.objects.get(pk=item.pk)
    assert fresh.stock_left == 0 and Sku.objects.get(pk=item.sku_id).stock == 18
    assert sum(FlashPurchase.objects.filter(item=item).values_list("quantity", flat=True)) == 12


def test_cancellations_racing_buyers_and_the_end_lose_no_unit(shop):
    owner = make_staff(shop, username="boss")
    product = make_product(shop, name="秒杀茶", price=1990, stock=30)
    item = make_flash(owner, shop, product, flash_stock=8, limit=1)
    buyers = make_buyers(shop, 24)
    first = [
        r for r in run_parallel(_attempt, [(shop, s, a, item) for s, a in buyers[:8]]) if not isinstance(r, DomainError)
    ]
    assert len(first) == 8
    for order in first[:4]:
        pay(order)
    # Four unpaid orders time out while sixteen more buyers rush for what comes back.
    expire = [(lambda: lifecycle.orders_expire_due(now=timezone.now() + timedelta(minutes=6)), ())]
    rush = [(lambda s=s, a=a: _attempt(shop, s, a, item), ()) for s, a in buyers[8:]]
    run_parallel(lambda f, args: f(*args), expire + rush, workers=17)
    # Then the session ends while the remaining unpaid orders are cancelled.
    pending = list(Order.objects.filter(shop=shop, status=OrderStatus.PENDING_PAYMENT).values_list("pk", flat=True))
    ends = [(lambda: services.flash_session_end(shop=shop, session_id=item.session.public_id, actor=owner), ())]
    cancels = [(lambda pk=pk: lifecycle.order_cancel(order_id=pk, actor="test"), ()) for pk in pending]
    run_parallel(lambda f, args: f(*args), ends + cancels)
    fresh = FlashItem.objects.get(pk=item.pk)
    paid = sum(o.quantity for o in FlashOrder.objects.filter(item=item, order__status=OrderStatus.PAID))
    assert Order.objects.filter(shop=shop, status=OrderStatus.PENDING_PAYMENT).count() == 0
    assert fresh.stock_left == 0 and fresh.stock_returned
    assert paid + fresh.returned_quantity == 8  # every unit is sold or back with the SKU
    assert Sku.objects.get(pk=item.sku_id).stock == 30 - paid
    assert FlashOrder.objects.filter(item=item, released=False).count() == paid
