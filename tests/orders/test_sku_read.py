"""Checkout's SKU read is compiled once per process and reused with the real values
(siyu/orders/sku_read.py): the statement it runs must be the one the ORM compiles for those values,
and the SKUs it makes must carry the same fields, related objects and hook values."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.catalog.models import ShippingTemplate
from siyu.customers.membership import level_save
from siyu.customers.models import Customer
from siyu.customers.stats import customer_for_shopper
from siyu.distribution.models import PriceFloor
from siyu.orders.sku_read import skus_query, skus_read, statement_sql

from ..factories import make_product, make_shopper

pytestmark = pytest.mark.django_db


def _skus(shop, count):
    return [make_product(shop, name=f"茶{i}", price=1000 + i, stock=5 + i).skus.get() for i in range(count)]


@pytest.mark.parametrize("count", [1, 3])
@pytest.mark.parametrize("signed_in", [True, False])
def test_the_reused_statement_is_the_one_the_orm_compiles_for_the_real_values(shop, shopper, count, signed_in):
    ids = [s.pk for s in _skus(shop, count)]
    who = shopper if signed_in else None
    for now in (timezone.now(), timezone.now() + timedelta(days=3, microseconds=17)):
        expected = skus_query(shop=shop, shopper=who, sku_ids=ids, now=now).query.sql_with_params()
        sql, params = statement_sql(shop=shop, shopper=who, sku_ids=ids, now=now)
        assert sql == expected[0]
        assert list(params) == list(expected[1])
    other = make_shopper()  # another shopper on the same compiled statement
    expected = skus_query(shop=shop, shopper=other, sku_ids=ids[::-1], now=now).query.sql_with_params()
    assert statement_sql(shop=shop, shopper=other, sku_ids=ids[::-1], now=now) == (expected[0], list(expected[1]))


def test_the_skus_carry_what_the_orm_would_give_them(shop, owner, shopper):
    template = ShippingTemplate.objects.create(shop=shop, name="顺丰", base_fee=800)
    skus = _skus(shop, 2)
    skus[0].product.shipping_template = template
    skus[0].product.save(update_fields=["shipping_template"])
    PriceFloor.objects.create(shop=shop, sku=skus[1], min_price=900)
    level_save(actor=owner, shop=shop, data={"name": "金卡", "min_spend": 0, "discount_bp": 1000})
    Customer.objects.filter(pk=customer_for_shopper(shop=shop, shopper=shopper).pk).update(total_spent=100)
    now = timezone.now()
    ids = [s.pk for s in skus]
    reference = {s.pk: s for s in skus_query(shop=shop, shopper=shopper, sku_ids=ids, now=now)}
    skus_read(shop=shop, shopper=shopper, sku_ids=ids, now=now)  # compiled (if not yet)
    with CaptureQueriesContext(connection) as ctx:
        found = skus_read(shop=shop, shopper=shopper, sku_ids=ids, now=now)
    assert len(ctx.captured_queries) == 1
    assert found.keys() == reference.keys()
    reads = [name for name in vars(reference[ids[0]]) if name.startswith("read_")]
    assert len(reads) >= 5  # level, floor, coupons, threshold, limited-time, member prices
    for pk, sku in found.items():
        ref = reference[pk]
        assert (sku.price, sku.stock, sku.label, sku.is_active) == (ref.price, ref.stock, ref.label, ref.is_active)
        assert sku.product.name == ref.product.name and sku.product.status == ref.product.status
        assert sku.product.shipping_template == ref.product.shipping_template
        assert {n: getattr(sku, n) for n in reads} == {n: getattr(ref, n) for n in reads}
    assert found[ids[0]].product.shipping_template.base_fee == 800
    assert found[ids[1]].product.shipping_template is None
    floor = next(n for n in reads if getattr(found[ids[1]], n) == 900)
    assert getattr(found[ids[0]], floor) is None
    assert found[ids[0]]._state.adding is False and found[ids[0]]._state.db == "default"
