"""Every list and detail endpoint runs a fixed number of queries, whatever the number of rows.

The counts include the shop lookup of ShopMiddleware (one query, as the shop cache is off in
tests) and one query for a bearer token.
"""

import pytest

from siyu.accounts.models import Address, ApiToken
from siyu.accounts.services import token_issue
from siyu.catalog.models import ProductImage, ShippingTemplate, Sku
from siyu.core.ids import public_id
from siyu.orders.checkout import order_place

from ..factories import CategoryFactory, make_product, make_staff
from ..orders.helpers import order_insert_statements
from .conftest import API, bearer

SHOP = 1  # ShopMiddleware finds the shop
TOKEN = 1
PAGE = 2  # count + slice
SIZES = [5, 30]


def _products(shop, n, **extra):
    category = CategoryFactory(shop=shop)
    return [make_product(shop, name=f"商品{i}", category=category, **extra) for i in range(n)]


@pytest.mark.parametrize("n", SIZES)
def test_storefront_product_list(client, shop, n, django_assert_num_queries):
    _products(shop, n)
    with django_assert_num_queries(SHOP + PAGE):
        response = client.get(f"{API}/storefront/products?limit=100")
    assert len(response.json()["items"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_storefront_product_detail(client, shop, owner, n, django_assert_num_queries):
    product = make_product(shop)
    Sku.objects.bulk_create(
        [Sku(shop=shop, product=product, spec_key=f"k{i}", spec_values=[f"v{i}"], price=100) for i in range(n)]
    )
    ProductImage.objects.bulk_create(
        [
            ProductImage(product=product, image=f"products/{i}.jpg", thumb=f"products/{i}_t.jpg", position=i)
            for i in range(n)
        ]
    )
    with django_assert_num_queries(SHOP + 3):  # product (+category, shipping), SKUs, images
        response = client.get(f"{API}/storefront/products/{product.public_id}")
    assert len(response.json()["skus"]) == n + 1 and len(response.json()["images"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_storefront_home_and_categories(client, shop, owner, n, django_assert_num_queries):
    tops = [CategoryFactory(shop=shop, name=f"大类{i}") for i in range(n)]
    for top in tops[:3]:
        CategoryFactory(shop=shop, name="小类", parent=top)
    products = _products(shop, 8)
    from siyu.catalog.services import featured_set

    featured_set(actor=owner, shop=shop, product_ids=[p.public_id for p in products])
    with django_assert_num_queries(SHOP + 2):  # featured, categories
        home = client.get(f"{API}/storefront/home").json()
    assert len(home["featured"]) == 8 and len(home["categories"]) == n + 1
    with django_assert_num_queries(SHOP + 1):
        assert len(client.get(f"{API}/storefront/categories").json()) == n + 1
    with django_assert_num_queries(SHOP):
        assert client.get(f"{API}/storefront/shop").status_code == 200


@pytest.mark.parametrize("n", SIZES)
def test_storefront_addresses(client, shop, shopper, shopper_key, n, django_assert_num_queries):
    Address.objects.bulk_create(
        [
            Address(
                shop=shop,
                shopper=shopper,
                public_id=public_id(),
                recipient=f"收件人{i}",
                phone="13800138000",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                detail="文三路",
            )
            for i in range(n)
        ]
    )
    with django_assert_num_queries(SHOP + TOKEN + 1):
        response = client.get(f"{API}/storefront/me/addresses", headers=bearer(shopper_key))
    assert len(response.json()) == n
    one = Address.objects.filter(shopper=shopper).first()
    with django_assert_num_queries(SHOP + TOKEN + 1):
        assert client.get(f"{API}/storefront/me/addresses/{one.public_id}", headers=bearer(shopper_key)).json()
    with django_assert_num_queries(SHOP + TOKEN):
        assert client.get(f"{API}/storefront/me", headers=bearer(shopper_key)).status_code == 200


@pytest.mark.parametrize("n", SIZES)
def test_console_product_list(api, shop, n, django_assert_num_queries):
    for product in _products(shop, n):
        Sku.objects.create(shop=shop, product=product, spec_key="x", price=1, stock=2)
    with django_assert_num_queries(SHOP + TOKEN + PAGE):
        response = api.get(f"{API}/console/products?limit=100")
    items = response.json()["items"]
    assert len(items) == n and {p["stock_total"] for p in items} == {12}
    assert items[0]["category"]["name"]


@pytest.mark.parametrize("n", SIZES)
def test_console_product_detail(api, shop, n, django_assert_num_queries):
    product = make_product(shop)
    Sku.objects.bulk_create([Sku(shop=shop, product=product, spec_key=f"k{i}", price=100) for i in range(n)])
    with django_assert_num_queries(SHOP + TOKEN + 3):
        response = api.get(f"{API}/console/products/{product.public_id}")
    assert len(response.json()["skus"]) == n + 1


@pytest.mark.parametrize("n", SIZES)
def test_console_lists(api, shop, owner, n, django_assert_num_queries):
    for i in range(n):
        CategoryFactory(shop=shop, name=f"类{i}")
        ShippingTemplate.objects.create(shop=shop, name=f"模板{i}")
        token_issue(shop=shop, staff=owner, name=f"t{i}")
    for i in range(n - 1):
        make_staff(shop, username=f"clerk{i}", role="service")
    checks = [
        ("categories", 1, n),
        ("shipping-templates", 1, n),
        ("tokens", 1, n + 1),
        ("staff", 1, n),
        ("featured", 1, 0),
        ("dashboard", 3, None),
        ("shop", 0, None),
    ]
    for path, queries, expected in checks:
        with django_assert_num_queries(SHOP + TOKEN + queries):
            response = api.get(f"{API}/console/{path}")
        assert response.status_code == 200
        if expected is not None:
            assert len(response.json()) == expected, path
    assert ApiToken.objects.count() == n + 1


@pytest.mark.parametrize("n", SIZES)
def test_console_product_list_by_staff_session(staff_client, shop, n, django_assert_num_queries):
    _products(shop, n)
    with django_assert_num_queries(SHOP + 2 + PAGE):  # the session's user, then their staff record
        response = staff_client.get(f"{API}/console/products?limit=100")
    assert response.json()["count"] == n


@pytest.mark.parametrize("n", SIZES)
def test_console_parity_lists(api, shop, owner, n, django_assert_num_queries, django_capture_on_commit_callbacks):
    """A product's detail images and the shop-wide commission list (each row with its order, line
    and promoter joined in)."""
    from siyu.distribution.models import Commission, Promoter
    from siyu.orders.models import OrderLine

    from ..distribution.promoter_steps import approved_promoter, referred_order, world

    product = make_product(shop)
    ProductImage.objects.bulk_create(
        [ProductImage(product=product, image=f"p/{i}.jpg", thumb=f"p/{i}_t.jpg", position=i) for i in range(n)]
    )
    with django_assert_num_queries(SHOP + TOKEN + 3):  # the product, its SKUs, its images
        response = api.get(f"{API}/console/products/{product.public_id}/images")
    assert len(response.json()) == n

    w = world(shop, owner, default_rate_bp=1000)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w)
    first = Commission.objects.get()
    line = first.line
    lines = OrderLine.objects.bulk_create(
        [
            OrderLine(
                **{f.attname: getattr(line, f.attname) for f in OrderLine._meta.concrete_fields if not f.primary_key}
            )
            for _ in range(n - 1)
        ]
    )
    promoters = [approved_promoter(shop, owner) for _ in range(2)]
    Commission.objects.bulk_create(
        [
            Commission(
                shop=shop, promoter=promoters[i % 2], order=order, line=extra, base_amount=100, rate_bp=1000, amount=10
            )
            for i, extra in enumerate(lines)
        ]
    )
    assert Promoter.objects.count() == 3
    with django_assert_num_queries(SHOP + TOKEN + PAGE):
        response = api.get(f"{API}/console/commissions?limit=100")
    assert response.json()["count"] == n and len({c["promoter_id"] for c in response.json()["items"]}) == min(n, 3)
    with django_assert_num_queries(SHOP + TOKEN + 1 + PAGE):  # the promoter filter checks the promoter is ours
        response = api.get(f"{API}/console/commissions?limit=100&promoter={w.promoter.pk}&status=frozen")
    assert response.json()["count"] == 1


@pytest.mark.parametrize("n", [1, 5])
def test_storefront_checkout(client, shop, shopper, shopper_key, address, n, django_assert_num_queries):
    """One API order, whatever its number of lines: token and shopper (one query), address, SKUs
    with product, template, the shopper's member level and each SKU's price floor (one query); then
    in the transaction (BEGIN/COMMIT, here a savepoint) the order, its lines, timeline row and outbox
    event (the last three one statement on PostgreSQL) and one stock UPDATE per SKU. No idempotency
    read: the unique key answers a resubmission."""
    import json
    import secrets

    skus = [make_product(shop, name=f"商品{i}", stock=10).skus.get() for i in range(n)]
    body = json.dumps({"items": [{"sku": s.pk, "quantity": 1} for s in skus], "address_id": address.public_id})
    # The SKU read is compiled once per process and basket size (siyu/orders/sku_read.py) and order
    # subscribers keep per-shop flags in the cache: one order first warms them.
    order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": s.pk, "quantity": 1} for s in skus],
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
    )
    with django_assert_num_queries(SHOP + TOKEN + 2 + 2 + order_insert_statements() + n):
        response = client.post(
            f"{API}/storefront/orders",
            body,
            content_type="application/json",
            headers={**bearer(shopper_key), "Idempotency-Key": secrets.token_hex(8)},
        )
    assert response.status_code == 201, response.content
    assert len(response.json()["lines"]) == n
