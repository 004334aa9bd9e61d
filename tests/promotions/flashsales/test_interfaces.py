"""The API, storefront and console doors of flash sales, with their query counts at two sizes."""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import token_issue
from siyu.promotions.flashsales.models import FlashItem, FlashSession

from ...factories import make_product
from .conftest import make_flash

API = "/api/v1"
SIZES = [2, 8]


def _bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


@pytest.fixture
def staff_key(shop, owner):
    return token_issue(shop=shop, staff=owner, name="t")[1]


def _items(owner, shop, n):
    """One running session with n items."""
    first = make_flash(owner, shop, make_product(shop, name="p0", stock=50), schedule=False)
    from siyu.promotions.flashsales import services

    for i in range(1, n):
        product = make_product(shop, name=f"p{i}", stock=50)
        services.flash_item_add(
            actor=owner,
            shop=shop,
            session_id=first.session.public_id,
            sku_id=product.skus.get().pk,
            flash_price=500,
            flash_stock=5,
        )
    services.flash_session_schedule(actor=owner, shop=shop, session_id=first.session.public_id)
    return first.session


def test_console_api_sets_up_schedules_and_ends_a_session(client, shop, owner, staff_key, product):
    now = timezone.now()
    body = {"name": "早场", "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()}
    resp = client.post(f"{API}/console/flash-sales", body, content_type="application/json", **_bearer(staff_key))
    assert resp.status_code == 201, resp.content
    sid = resp.json()["id"]
    sku = product.skus.get()
    too_high = {"sku_id": sku.pk, "flash_price": sku.price + 1, "flash_stock": 3}
    resp = client.post(
        f"{API}/console/flash-sales/{sid}/items", too_high, content_type="application/json", **_bearer(staff_key)
    )
    assert resp.status_code == 409 and resp.json()["code"] == "flash_price_too_high"
    good = {"sku_id": sku.pk, "flash_price": 990, "flash_stock": 3, "per_customer_limit": 1}
    resp = client.post(
        f"{API}/console/flash-sales/{sid}/items", good, content_type="application/json", **_bearer(staff_key)
    )
    assert resp.status_code == 201 and resp.json()["promotion"].startswith("flash_sale:")
    item_id = resp.json()["id"]
    resp = client.post(f"{API}/console/flash-sales/{sid}/schedule", **_bearer(staff_key))
    assert resp.status_code == 200 and resp.json()["status"] == "scheduled"
    assert resp.json()["items"][0]["stock_left"] == 3
    sku.refresh_from_db()
    assert sku.stock == 7
    resp = client.put(
        f"{API}/console/flash-sale-items/{item_id}",
        {"flash_price": 100, "flash_stock": 3},
        content_type="application/json",
        **_bearer(staff_key),
    )
    assert resp.status_code == 409
    resp = client.get(f"{API}/console/flash-sale-items/{item_id}/results", **_bearer(staff_key))
    assert resp.status_code == 200 and resp.json()["orders_placed"] == 0
    resp = client.post(f"{API}/console/flash-sales/{sid}/end", **_bearer(staff_key))
    assert resp.status_code == 200 and resp.json()["status"] == "ended"
    sku.refresh_from_db()
    assert sku.stock == 10


def test_other_shops_cannot_see_a_session(client, shop, other_shop, owner, item):
    from ...factories import make_staff

    theirs = token_issue(shop=other_shop, staff=make_staff(other_shop, username="otherboss"), name="t")[1]
    resp = client.get(f"/s/other{API}/console/flash-sales/{item.session.public_id}", **_bearer(theirs))
    assert resp.status_code == 404


def test_buying_through_the_storefront_api(client, shop, shopper, address, item):
    key = token_issue(shop=shop, shopper=shopper, name="t")[1]
    body = {
        "items": [{"sku": item.sku_id, "quantity": 1}],
        "address_id": address.public_id,
        "promotion": f"flash_sale:{item.public_id}",
    }
    resp = client.post(
        f"{API}/storefront/orders",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=secrets.token_hex(8),
        **_bearer(key),
    )
    assert resp.status_code == 201, resp.content
    assert FlashItem.objects.get(pk=item.pk).stock_left == 4
    resp = client.post(
        f"{API}/storefront/orders",
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=secrets.token_hex(8),
        **_bearer(key),
    )
    assert resp.status_code == 409 and resp.json()["code"] == "flash_sale_limit"


@pytest.mark.parametrize("n", SIZES)
def test_storefront_api_list_query_count(client, shop, owner, shopper, n, django_assert_num_queries):
    _items(owner, shop, n)
    key = token_issue(shop=shop, shopper=shopper, name="t")[1]
    with django_assert_num_queries(1 + 1 + 2):  # shop, token, sessions, items (with SKU and product)
        resp = client.get(f"{API}/storefront/flash-sales", **_bearer(key))
    assert resp.status_code == 200 and len(resp.json()[0]["items"]) == n


@pytest.mark.parametrize("n", SIZES)
def test_flash_sale_page_and_panels_query_counts(client, shop, owner, n, django_assert_num_queries):
    session = _items(owner, shop, n)
    with django_assert_num_queries(1 + 1 + 2):  # shop, flag, sessions, items
        resp = client.get("/flash-sale/")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count('class="btn flash-buy"') == n
    assert "countdown.js" in html and "data-countdown" in html
    first = session.items.order_by("id").first()
    product = first.product
    resp = client.get(f"/p/{product.public_id}/")
    html = resp.content.decode()
    assert 'id="flash-buy"' in html and f"promotion=flash_sale:{first.public_id}" in html
    resp = client.get("/")
    assert session.name in resp.content.decode()


def test_pages_cost_nothing_more_once_the_flag_says_no_flash_sale(client, shop, product, django_assert_num_queries):
    client.get("/")  # fills the flag
    from siyu.promotions.flashsales.selectors import flash_sales_on

    with django_assert_num_queries(0):
        assert flash_sales_on(shop_id=shop.pk) is False
    assert FlashSession.objects.count() == 0
    assert "flash-panel" not in client.get(f"/p/{product.public_id}/").content.decode()


@pytest.mark.parametrize("n", SIZES)
def test_console_pages(client, shop, owner, n, django_assert_max_num_queries):
    session = _items(owner, shop, n)
    client.force_login(owner.user)
    with django_assert_max_num_queries(12):
        resp = client.get("/console/flash-sales/")
    assert resp.status_code == 200 and session.name in resp.content.decode()
    with django_assert_max_num_queries(14):
        resp = client.get(f"/console/flash-sales/{session.public_id}/")
    assert resp.status_code == 200 and resp.content.decode().count("¥5.00") >= n - 1


def test_console_creates_a_session_and_refuses_a_bad_item(client, shop, owner, product):
    client.force_login(owner.user)
    now = timezone.localtime()
    resp = client.post(
        "/console/flash-sales/",
        {
            "name": "晚场",
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "pay_minutes": 5,
        },
    )
    assert resp.status_code == 302
    session = FlashSession.objects.get()
    sku = product.skus.get()
    resp = client.post(
        f"/console/flash-sales/{session.public_id}/",
        {"sku": sku.pk, "flash_price": "99.99", "flash_stock": 2, "per_customer_limit": 1},
    )
    assert resp.status_code == 409  # above the SKU's ¥19.90: the form again, with the reason
    assert "秒杀价" in resp.content.decode() or "flash price" in resp.content.decode().lower()
    resp = client.post(
        f"/console/flash-sales/{session.public_id}/",
        {"sku": sku.pk, "flash_price": "9.90", "flash_stock": 2, "per_customer_limit": 1},
    )
    assert resp.status_code == 302
    resp = client.post(f"/console/flash-sales/{session.public_id}/action/", {"action": "schedule"})
    assert resp.status_code == 302
    session.refresh_from_db()
    assert session.status == "scheduled"
