"""PromotionUse rows written with the order, and per-promotion results read from them."""

from types import SimpleNamespace

import pytest
from django.db.models import F

from siyu.orders import pricing
from siyu.orders.lifecycle import order_cancel
from siyu.orders.models import Order
from siyu.orders.pricing import Adjustment, LinePrice
from siyu.promotions.handlers import uses_on_place
from siyu.promotions.models import PromotionUse
from siyu.promotions.results import promotion_results, promotion_results_many

from ..factories import make_product, make_shopper
from ..orders.helpers import pay, place


def _test_pricer(*, shop, shopper, lines, options, **_):
    if options.get("promotion") != "test_sale:S1":
        return {}
    return {
        ln.sku_id: LinePrice(unit_price=ln.list_price - 300, kind="test_sale", label="test", ref="S1") for ln in lines
    }


def _test_adjuster(*, shop, shopper, subtotal, options, **_):
    if not options.get("test_off"):
        return []
    return [Adjustment(kind="test_off", label="test", amount=100, ref=str(options["test_off"]))]


@pytest.fixture
def hooks(monkeypatch):
    monkeypatch.setattr(pricing, "_pricers", [*pricing._pricers, pricing._Hook(_test_pricer, {}, 50)])
    adjusters = sorted([*pricing._adjusters, pricing._Hook(_test_adjuster, {}, 15)], key=lambda h: h.priority)
    monkeypatch.setattr(pricing, "_adjusters", adjusters)


@pytest.fixture
def tea(shop):
    return make_product(shop, name="茶", price=2000, stock=50)


def _address(shop, shopper):
    from siyu.accounts.services import address_create

    return address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "李四",
            "phone": "13900001111",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "1 号",
        },
    )


def test_order_without_promotions_costs_the_subscriber_no_query(db, django_assert_num_queries):
    event = SimpleNamespace(payload={"order": 1, "promotions": []}, shop_id=1, pk=1, topic="order.placed")
    with django_assert_num_queries(0):
        uses_on_place(event)


def test_uses_recorded_with_the_order_for_line_prices_and_adjustments(hooks, shop, shopper, address, tea):
    order = place(shop, shopper, address, tea, quantity=2, options={"promotion": "test_sale:S1", "test_off": "A1"})
    uses = {(u.kind, u.ref): u.discount for u in PromotionUse.objects.filter(order=order)}
    assert uses == {("test_sale", "S1"): 600, ("test_off", "A1"): 100}
    assert order.discount == 100 and order.subtotal == 3400


def test_plain_order_records_nothing(hooks, shop, shopper, address, tea):
    order = place(shop, shopper, address, tea)
    assert not PromotionUse.objects.filter(order=order).exists()


def test_results_orders_revenue_discount_and_new_vs_returning(hooks, shop, shopper, address, tea):
    # shopper: a plain paid order first, then one with the promotion -> returning
    pay(place(shop, shopper, address, tea))
    returning = place(shop, shopper, address, tea, options={"test_off": "A1"})
    pay(returning)
    # a second shopper's first paid order uses it -> new; refunded 500 fen of it
    other = make_shopper("13900001111")
    other_address = _address(shop, other)
    first = place(shop, other, other_address, tea, options={"test_off": "A1"})
    pay(first)
    Order.objects.filter(pk=first.pk).update(refunded_amount=F("refunded_amount") + 500)
    # a third order with the promotion is cancelled: placed, not paid
    cancelled = place(shop, other, other_address, tea, options={"test_off": "A1"})
    order_cancel(order_id=cancelled.pk, actor="system")
    first.refresh_from_db()
    returning.refresh_from_db()

    result = promotion_results(shop=shop, kind="test_off", ref="A1")
    assert result.orders_placed == 3
    assert result.orders_paid == 2
    assert result.revenue == returning.paid_amount + first.paid_amount - 500
    assert result.discount == 200 and result.discount_placed == 300
    assert (result.new_customers, result.returning_customers) == (1, 1)
    assert result.conversion_bp == 6666


def test_results_for_many_in_one_query_at_any_size(hooks, shop, shopper, address, tea, django_assert_num_queries):
    for ref in ("A1", "A2", "A2"):
        pay(place(shop, shopper, address, tea, options={"test_off": ref}))
    with django_assert_num_queries(1):
        many = promotion_results_many(shop=shop, kind="test_off", refs=["A1", "A2", "none"])
    assert [many[r].orders_paid for r in ("A1", "A2", "none")] == [1, 2, 0]
    assert many["A2"].new_customers == 0 and many["A1"].new_customers == 1
    assert many["A2"].returning_customers == 1
    assert promotion_results_many(shop=shop, kind="test_off", refs=[]) == {}


def test_results_are_scoped_by_shop(hooks, shop, other_shop, shopper, address, tea):
    pay(place(shop, shopper, address, tea, options={"test_off": "A1"}))
    assert promotion_results(shop=other_shop, kind="test_off", ref="A1").orders_placed == 0
