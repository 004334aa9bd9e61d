"""What other domains need at checkout (the shopper's member level, each SKU's price floor) is read
with the basket's SKUs in one SELECT: the benefits and refusals are unchanged, the queries are not
one per domain."""

import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.catalog.models import Sku
from siyu.core.errors import Conflict
from siyu.customers.membership import level_save
from siyu.customers.models import Customer
from siyu.customers.stats import customer_for_shopper
from siyu.distribution.models import PriceFloor
from siyu.distribution.prices import sku_price_check
from siyu.orders.checkout import order_place, order_quote
from siyu.orders.models import Order

from ..factories import make_product, make_shopper
from .helpers import order_insert_statements

pytestmark = pytest.mark.django_db


def _place(shop, shopper, address, skus):
    return order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": s.pk, "quantity": 1} for s in skus],
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
    )


def _count(func) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as ctx:
        result = func()
    return result, len(ctx.captured_queries)


def test_member_level_and_floors_cost_no_query_of_their_own(shop, owner, shopper, address):
    skus = [make_product(shop, name=f"茶{i}", price=10000, stock=10).skus.get() for i in range(3)]
    _place(shop, shopper, address, skus)  # warm the per-process caches
    _, plain = _count(lambda: _place(shop, shopper, address, skus))
    level_save(
        actor=owner, shop=shop, data={"name": "金卡", "min_spend": 0, "discount_bp": 1000, "free_shipping": "on"}
    )
    customer_for_shopper(shop=shop, shopper=shopper)
    for sku in skus:
        PriceFloor.objects.create(shop=shop, sku=sku, min_price=5000)
    order, with_both = _count(lambda: _place(shop, shopper, address, skus))
    # address, SKUs (with the level and the floors), savepoint, order, lines, timeline, outbox
    # (see order_insert_statements), three stock updates, release: no query for the level, none
    # for the floors
    assert with_both == plain == 7 + order_insert_statements()
    assert (order.subtotal, order.discount, order.shipping_fee) == (30000, 3000, 0)
    assert order.adjustments[0]["kind"] == "member_discount" and "金卡" in order.adjustments[0]["label"]


def test_the_level_read_with_the_skus_is_the_one_reached_by_spend(shop, owner, shopper, address):
    sku = make_product(shop, price=10000, stock=10).skus.get()
    level_save(actor=owner, shop=shop, data={"name": "银卡", "min_spend": 100, "discount_bp": 500})
    level_save(actor=owner, shop=shop, data={"name": "金卡", "min_spend": 1000, "discount_bp": 1000})
    items = [{"sku": sku.pk, "quantity": 1}]
    assert order_quote(shop=shop, items=items, shopper=shopper).discount == 0  # no customer yet: no spend
    Customer.objects.filter(pk=customer_for_shopper(shop=shop, shopper=shopper).pk).update(total_spent=500)
    assert order_quote(shop=shop, items=items, shopper=shopper).discount == 500
    Customer.objects.filter(shopper=shopper).update(total_spent=1000)
    assert order_quote(shop=shop, items=items, shopper=shopper).discount == 1000
    other = make_shopper()  # someone else's spend is not ours
    assert order_quote(shop=shop, items=items, shopper=other).discount == 0
    assert order_quote(shop=shop, items=items).discount == 0  # no shopper: no benefits, no level read


def test_a_line_below_its_floor_refuses_the_whole_basket_before_anything_is_written(shop, owner, shopper, address):
    fine, cheap = (make_product(shop, name=n, price=1990, stock=10).skus.get() for n in ("甲", "乙"))
    PriceFloor.objects.create(shop=shop, sku=fine, min_price=1990)  # at the floor: fine
    PriceFloor.objects.create(shop=shop, sku=cheap, min_price=2000)
    with pytest.raises(Conflict) as exc:
        _place(shop, shopper, address, [fine, cheap])
    assert exc.value.code == "below_price_floor"
    assert exc.value.detail == {"sku": cheap.pk, "min_price": 2000, "price": 1990}
    assert not Order.objects.exists()
    assert list(Sku.objects.filter(pk__in=[fine.pk, cheap.pk]).values_list("stock", flat=True)) == [10, 10]
    sku_price_check(sku=cheap, price=1990, override_reason="活动价", actor=owner)  # an override for this price
    assert _place(shop, shopper, address, [fine, cheap]).total >= 2 * 1990
