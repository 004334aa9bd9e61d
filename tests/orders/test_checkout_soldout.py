"""Sold out is cheap (issue 15, item 4): once a SKU is seen at zero, buy requests for it are refused
from the cache without a transaction, and every path that gives stock back clears that."""

import secrets

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.catalog.models import Sku
from siyu.catalog.services import sku_adjust_stock, sku_update_many
from siyu.core.errors import Conflict
from siyu.core.soldout import soldout_any
from siyu.orders.checkout import order_submit
from siyu.orders.lifecycle import order_cancel
from siyu.payments import aftersales
from siyu.payments.aftersales import aftersale_receive_return, aftersale_review

from ..factories import make_product, make_shopper
from .helpers import ask, deliver, place

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _marks_outlive_the_test(monkeypatch):
    # With local memory the marks expire after a few seconds on their own; here they must last,
    # so that only a clear can lift them.
    monkeypatch.setattr("siyu.core.soldout.LOCAL_TTL", 600)


@pytest.fixture
def last_one(shop):
    return make_product(shop, name="最后一件", price=3000, stock=1)


def _buy(shop, shopper, address, product, key=None):
    return order_submit(
        shop=shop,
        shopper=shopper,
        items=[{"sku": product.skus.get().pk, "quantity": 1}],
        address_id=address.public_id,
        idempotency_key=key or secrets.token_hex(8),
    )


def _refused_from_cache(shop, shopper, address, product):
    """A buy that must be answered from the sold-out mark: no transaction, only the SELECT that
    checks whether the key had made an order (the resubmission path)."""
    sku = product.skus.get()
    with CaptureQueriesContext(connection) as ctx, pytest.raises(Conflict) as exc:
        order_submit(
            shop=shop,
            shopper=shopper,
            items=[{"sku": sku.pk, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key=secrets.token_hex(8),
        )
    assert exc.value.code == "items_unavailable"
    assert exc.value.detail == {str(sku.pk): "only 0 left"}
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 1 and sql[0].startswith("SELECT") and "orders_order" in sql[0], sql


def test_selling_the_last_unit_marks_the_sku_and_later_buyers_are_refused_without_a_transaction(
    shop, shopper, address, last_one
):
    sku = last_one.skus.get()
    assert soldout_any(sku_ids=[sku.pk]) == []
    _buy(shop, shopper, address, last_one)
    assert soldout_any(sku_ids=[sku.pk]) == [sku.pk]
    _refused_from_cache(shop, shopper, address, last_one)
    assert Sku.objects.get(pk=sku.pk).stock == 0


def test_a_sku_seen_at_zero_is_marked_too(shop, shopper, address, last_one):
    Sku.objects.filter(product=last_one).update(stock=0)  # sold elsewhere, e.g. before this process started
    with pytest.raises(Conflict):
        _buy(shop, shopper, address, last_one)
    _refused_from_cache(shop, shopper, address, last_one)


def test_a_resubmitted_key_still_answers_with_its_order_when_sold_out(shop, shopper, address, last_one):
    order, created = _buy(shop, shopper, address, last_one, key="rush-key-0001")
    again, created_again = _buy(shop, shopper, address, last_one, key="rush-key-0001")
    assert created and not created_again and again.pk == order.pk


def test_cancelling_gives_the_stock_back_and_clears_the_mark(shop, shopper, address, last_one):
    order, _ = _buy(shop, shopper, address, last_one)
    order_cancel(order_id=order.pk, actor=shopper, reason="changed my mind")
    other = make_shopper("13900139000")
    from siyu.accounts.services import address_create

    where = address_create(shop=shop, shopper=other, data={**_address_data(address)})
    second, created = _buy(shop, other, where, last_one)
    assert created and Sku.objects.get(product=last_one).stock == 0


def _address_data(address):
    return {k: getattr(address, k) for k in ("recipient", "phone", "province", "city", "district", "detail")}


def test_staff_adding_stock_or_editing_it_clears_the_mark(shop, owner, shopper, address, last_one):
    sku = last_one.skus.get()
    _buy(shop, shopper, address, last_one)
    sku_adjust_stock(actor=owner, sku=sku, delta=1, reason="found one")
    assert soldout_any(sku_ids=[sku.pk]) == []
    _buy(shop, shopper, address, last_one)
    assert soldout_any(sku_ids=[sku.pk]) == [sku.pk]
    sku_update_many(actor=owner, product=last_one, rows=[{"id": sku.pk, "stock": 2}])
    assert soldout_any(sku_ids=[sku.pk]) == []
    assert _buy(shop, shopper, address, last_one).created


def test_goods_returned_to_stock_clear_the_mark(shop, owner, shopper, address, last_one):
    order = place(shop, shopper, address, last_one)
    sku = last_one.skus.get()
    assert soldout_any(sku_ids=[sku.pk]) == [sku.pk]
    deliver(order, owner)
    sale = ask(order, order.lines.get(), "return_refund", 1, "no_reason")
    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    aftersales.aftersale_return_shipped(
        shop=shop, shopper=shopper, public_id=sale.public_id, carrier="中通", tracking="Z1"
    )
    aftersale_receive_return(actor=owner, shop=shop, public_id=sale.public_id)
    assert Sku.objects.get(pk=sku.pk).stock == 1
    assert soldout_any(sku_ids=[sku.pk]) == []
