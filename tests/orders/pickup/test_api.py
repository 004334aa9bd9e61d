"""API operations for pickup: console points, orders, write-off and batches; storefront points,
checkout with a pickup point, the order's code and the keeper's write-off."""

import pytest

from siyu.accounts.services import token_issue
from siyu.orders.models import OrderStatus
from tests.orders.helpers import pay

from .conftest import POINT, place_pickup

CON, SF = "/api/v1/console", "/api/v1/storefront"
S = OrderStatus


@pytest.fixture
def staff_auth(shop, owner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, staff=owner, name='t')[1]}"}


@pytest.fixture
def shopper_auth(shop, shopper):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, shopper=shopper, name='t')[1]}"}


@pytest.fixture
def keeper_auth(shop, keeper):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, shopper=keeper, name='t')[1]}"}


def _json(client, method, url, auth, body=None):
    return getattr(client, method)(url, body or {}, content_type="application/json", **auth)


def test_console_points_crud(client, shop, staff_auth, keeper):
    created = _json(client, "post", f"{CON}/pickup/points", staff_auth, {**POINT, "keeper_phone": "13900001111"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (
        body["name"] == "西湖团长点"
        and body["keeper_phone"] == keeper.masked_phone
        and body["open_days"] == list(range(7))
    )
    pid = body["id"]
    changed = _json(client, "put", f"{CON}/pickup/points/{pid}", staff_auth, {**POINT, "active": False})
    assert changed.status_code == 200 and changed.json()["active"] is False and changed.json()["keeper_phone"] == ""
    bad = _json(client, "post", f"{CON}/pickup/points", staff_auth, {**POINT, "closes_at": "08:00"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"
    assert _json(client, "put", f"{CON}/pickup/points/nope", staff_auth, POINT).status_code == 404
    assert client.get(f"{CON}/pickup/points", **staff_auth).json()[0]["id"] == pid


@pytest.mark.parametrize("n", [2, 10])
def test_console_lists_have_fixed_query_counts(
    client, shop, owner, shopper, point, posted_product, staff_auth, n, django_assert_num_queries
):
    for _ in range(n):
        pay(place_pickup(shop, shopper, point, posted_product))
    with django_assert_num_queries(4):  # shop, token, count, page
        resp = client.get(f"{CON}/pickup/orders?state=waiting", **staff_auth)
    assert resp.status_code == 200 and resp.json()["count"] == n
    batch = _json(client, "post", f"{CON}/pickup/batches", staff_auth, {"point_id": point.public_id}).json()
    assert batch["order_count"] == n
    with django_assert_num_queries(4):  # shop, token, count, page
        resp = client.get(f"{CON}/pickup/batches", **staff_auth)
    assert resp.json()["count"] == 1
    with django_assert_num_queries(5):  # shop, token, batch, orders, lines
        picks = client.get(f"{CON}/pickup/batches/{batch['id']}", **staff_auth).json()
    assert picks["units"] == n and picks["totals"] == [{"product": "测试商品", "spec": "", "quantity": n}]
    assert len(picks["orders"]) == n


def test_console_verify_once_and_batch_ship(client, shop, shopper, point, posted_product, staff_auth):
    a = place_pickup(shop, shopper, point, posted_product)
    pay(a)
    first = _json(client, "post", f"{CON}/pickup/verify", staff_auth, {"code": a.pickup.code})
    assert first.status_code == 200 and first.json()["order_status"] == S.COMPLETED
    assert first.json()["verified_via"] == "api"
    second = _json(client, "post", f"{CON}/pickup/verify", staff_auth, {"code": a.pickup.code})
    assert second.status_code == 409 and second.json()["code"] == "already_picked_up"
    assert second.json()["detail"]["by"] == "boss"
    unknown = _json(client, "post", f"{CON}/pickup/verify", staff_auth, {"code": "x" * 40})
    assert unknown.status_code == 404 and unknown.json()["code"] == "pickup_code_unknown"
    b = place_pickup(shop, shopper, point, posted_product)
    pay(b)
    batch = _json(client, "post", f"{CON}/pickup/batches", staff_auth, {"point_id": point.public_id}).json()
    shipped = _json(
        client,
        "post",
        f"{CON}/pickup/batches/{batch['id']}/ship",
        staff_auth,
        {"carrier": "社区", "tracking_number": "B-1"},
    )
    assert shipped.status_code == 200 and shipped.json()["orders"] == [b.number]
    again = _json(
        client,
        "post",
        f"{CON}/pickup/batches/{batch['id']}/ship",
        staff_auth,
        {"carrier": "社区", "tracking_number": "B-2"},
    )
    assert again.status_code == 409 and again.json()["code"] == "batch_shipped"
    empty = _json(client, "post", f"{CON}/pickup/batches", staff_auth, {"point_id": point.public_id})
    assert empty.status_code == 409 and empty.json()["code"] == "batch_empty"


def test_other_shops_token_cannot_touch_this_shops_pickup(client, shop, other_shop, shopper, point, posted_product):
    from tests.factories import make_staff

    order = place_pickup(shop, shopper, point, posted_product)
    pay(order)
    stranger = make_staff(other_shop, username="next-door")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=other_shop, staff=stranger, name='t')[1]}"}
    resp = client.post(
        f"/s/other{CON}/pickup/verify", {"code": order.pickup.code}, content_type="application/json", **auth
    )
    assert resp.status_code == 404
    assert client.get(f"/s/other{CON}/pickup/points", **auth).json() == []
    order.refresh_from_db()
    assert order.status == S.PAID


def test_storefront_checkout_with_a_pickup_point(
    client, shop, shopper, address, point, posted_product, shopper_auth, django_assert_num_queries
):
    sku = posted_product.skus.get()
    items = [{"sku": sku.pk, "quantity": 2}]
    client.get(f"{SF}/pickup/points", **shopper_auth)  # warm the shop's flag
    with django_assert_num_queries(3):  # shop, token, points
        points = client.get(f"{SF}/pickup/points", **shopper_auth).json()
    assert [p["id"] for p in points] == [point.public_id]
    quote = _json(
        client, "post", f"{SF}/checkout/quote", shopper_auth, {"items": items, "pickup_point": point.public_id}
    )
    assert quote.json()["shipping_fen"] == 0
    headers = {**shopper_auth, "HTTP_IDEMPOTENCY_KEY": "pickup-key-1"}
    both = _json(
        client,
        "post",
        f"{SF}/orders",
        headers,
        {"items": items, "pickup_point": point.public_id, "address_id": address.public_id},
    )
    assert both.status_code == 400 and both.json()["code"] == "address_or_pickup"
    neither = _json(
        client, "post", f"{SF}/orders", {**shopper_auth, "HTTP_IDEMPOTENCY_KEY": "pickup-key-2"}, {"items": items}
    )
    assert neither.status_code == 400
    made = _json(
        client,
        "post",
        f"{SF}/orders",
        {**shopper_auth, "HTTP_IDEMPOTENCY_KEY": "pickup-key-3"},
        {"items": items, "pickup_point": point.public_id},
    )
    assert made.status_code == 201 and made.json()["shipping_fee_fen"] == 0
    oid = made.json()["public_id"]
    code = client.get(f"{SF}/orders/{oid}/pickup", **shopper_auth).json()
    assert code["code"] == "" and code["point"]["id"] == point.public_id
    from siyu.orders.models import Order

    pay(Order.objects.get(public_id=oid))
    code = client.get(f"{SF}/orders/{oid}/pickup", **shopper_auth).json()
    assert len(code["code"]) == 8


def test_keeper_writes_off_through_the_api(client, shop, shopper, point, posted_product, keeper_auth, shopper_auth):
    order = place_pickup(shop, shopper, point, posted_product)
    pay(order)
    refused = _json(client, "post", f"{SF}/pickup/verify", shopper_auth, {"code": order.pickup.code})
    assert refused.status_code == 404
    done = _json(client, "post", f"{SF}/pickup/verify", keeper_auth, {"code": order.pickup.code})
    assert done.status_code == 200 and done.json()["verified_via"] == "keeper"
