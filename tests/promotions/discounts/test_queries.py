"""Query budgets: list pages and endpoints at two sizes; shopper pages and checkout pay nothing
for discounts when the shop runs none, and a fixed number when it runs them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from siyu.accounts.services import token_issue
from siyu.orders.checkout import order_quote
from siyu.storefront import panels_discounts

from ...api.conftest import API, bearer
from ...factories import make_product, sign_in_shopper
from .conftest import buy, make_level, make_limited, make_threshold, set_member_price, window

pytestmark = pytest.mark.django_db

SIZES = [5, 30]


def _many(owner, shop, n):
    for i in range(n):
        make_threshold(owner, shop, name=f"满减{i}", **window(starts_in=timedelta(days=i % 3)))
        product = make_product(shop, name=f"p{i}", price=6000)
        make_limited(owner, shop, product, price=5000, name=f"限时{i}")


@pytest.mark.parametrize("n", SIZES)
def test_console_list_page(staff_client, owner, shop, n, django_assert_num_queries):
    _many(owner, shop, n)
    staff_client.get(reverse("console:discounts"))  # warm the session
    # session, user, staff; activities and their results; discounts and theirs; priced products; products
    with django_assert_num_queries(9):
        response = staff_client.get(reverse("console:discounts"))
    assert response.status_code == 200 and "满减4" in response.content.decode()


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("path", ["thresholds", "limited-time"])
def test_api_lists(client, owner, shop, n, path, django_assert_num_queries):
    _many(owner, shop, n)
    key = token_issue(shop=shop, staff=owner, name="q")[1]
    with django_assert_num_queries(4):  # shop, token, count, page
        response = client.get(f"{API}/console/discounts/{path}?limit=100", headers=bearer(key))
    assert response.json()["count"] == n


def test_product_page_costs_nothing_without_discounts(client, shop, owner, django_assert_num_queries):
    product = make_product(shop, price=6000)
    url = reverse("storefront:product", args=[product.public_id])
    client.get(url)  # the flags are cached now
    with CaptureQueriesContext(connection) as seen:
        client.get(url)
    baseline = len(seen.captured_queries)
    original = panels_discounts.product_panel
    panels_discounts.product_panel = lambda request, product: None
    try:
        with django_assert_num_queries(baseline):
            client.get(url)
    finally:
        panels_discounts.product_panel = original


def test_product_page_with_every_kind(client, shop, owner, shopper, django_assert_num_queries):
    product = make_product(shop, price=6000)
    url = reverse("storefront:product", args=[product.public_id])
    sign_in_shopper(client, shopper)
    client.get(url)
    with CaptureQueriesContext(connection) as plain:
        client.get(url)
    level = make_level(shop)
    make_limited(owner, shop, product, price=5000)
    make_threshold(owner, shop)
    set_member_price(owner, shop, product, level, 4900)
    client.get(url)  # flags cached again
    # limited-time items, level, member prices, running activities
    with CaptureQueriesContext(connection) as seen:
        page = client.get(url).content.decode()
    assert len(seen.captured_queries) == len(plain.captured_queries) + 4
    assert "¥49.00" in page and "¥50.00" in page


def _quote(shop, shopper, sku_id: int):
    return order_quote(shop=shop, items=[{"sku": sku_id, "quantity": 1}], shopper=shopper, options={})


def test_quote_costs_nothing_without_discounts(shop, shopper, django_assert_num_queries):
    sku_id = make_product(shop, price=6000).skus.get().pk
    _quote(shop, shopper, sku_id)  # warm (SQLite's JSON support is detected once)
    # the SKUs with every hook's reads: one SELECT; the member adjuster reads nothing more without a level
    with django_assert_num_queries(1):
        _quote(shop, shopper, sku_id)


def test_quote_with_every_kind(owner, shop, shopper, django_assert_num_queries):
    product = make_product(shop, price=6000)
    level = make_level(shop, discount_bp=0)
    make_limited(owner, shop, product, price=5000, limit=2)
    make_threshold(owner, shop, tiers=((4000, 500),))
    set_member_price(owner, shop, product, level, 4900)
    sku_id = product.skus.get().pk
    _quote(shop, shopper, sku_id)
    # SKUs + reads; limited-time items; the shopper's allowance; member prices; running activities
    with django_assert_num_queries(5):
        q = _quote(shop, shopper, sku_id)
    assert q.lines[0].unit_price == 4900 and q.discount == 500


def test_placing_a_plain_order_costs_the_discounts_nothing(shop, shopper, address, django_assert_num_queries):
    from siyu.promotions.discounts import hooks

    product = make_product(shop, price=6000)
    calls = []
    original = hooks.limited.limits_take
    hooks.limited.limits_take = lambda **kw: calls.append(kw)
    try:
        buy(shop, shopper, address, (product, 1))
    finally:
        hooks.limited.limits_take = original
    assert calls == []
