"""Console and storefront pages for pickup, with their query counts at two sizes."""

import re

import pytest
from django.urls import reverse

from siyu.orders.models import OrderStatus
from siyu.orders.pickup.batches import pickup_batch_create
from siyu.orders.pickup.models import PickupOrder, PickupPoint
from tests.factories import make_product, make_staff, sign_in_shopper
from tests.orders.helpers import pay

from .conftest import POINT, place_pickup

S = OrderStatus


def _orders(shop, shopper, point, product, n):
    made = []
    for _ in range(n):
        order = place_pickup(shop, shopper, point, product)
        pay(order)
        made.append(order)
    return made


@pytest.mark.parametrize("n", [2, 12])
def test_console_pickup_pages_have_fixed_query_counts(
    staff_client, shop, owner, shopper, point, posted_product, n, django_assert_num_queries
):
    orders = _orders(shop, shopper, point, posted_product, n)
    batch = pickup_batch_create(actor=owner, shop=shop, point_id=point.public_id)
    # shop, user, staff member; then the page's own reads
    with django_assert_num_queries(4):  # + points with their keepers
        resp = staff_client.get(reverse("console:pickup_points"))
    assert resp.status_code == 200 and "西湖团长点" in resp.content.decode()
    with django_assert_num_queries(5):  # + count, page (orders, shoppers, points, batches joined)
        resp = staff_client.get(reverse("console:pickup_orders") + "?state=all")
    assert resp.status_code == 200
    assert all(o.number in resp.content.decode() for o in orders[:n])
    with django_assert_num_queries(6):  # + count, points for the form, page
        resp = staff_client.get(reverse("console:pickup_batches"))
    assert resp.status_code == 200
    for name in ("console:pickup_batch", "console:pickup_batch_print"):
        with django_assert_num_queries(6):  # + batch, orders of the batch, their lines
            resp = staff_client.get(reverse(name, args=[batch.public_id]))
        body = resp.content.decode()
        assert resp.status_code == 200 and f'<td class="num">{n}</td>' in body


def test_console_point_form_creates_and_edits(staff_client, shop, keeper):
    data = {**POINT, "open_days": ["0", "5"], "keeper_phone": "13900001111", "is_active": "on"}
    resp = staff_client.post(reverse("console:pickup_point_new"), data)
    assert resp.status_code == 302
    point = PickupPoint.objects.get(shop=shop)
    assert point.keeper == keeper and point.open_days == [0, 5] and point.is_active
    resp = staff_client.post(reverse("console:pickup_point", args=[point.public_id]), {**data, "is_active": ""})
    point.refresh_from_db()
    assert resp.status_code == 302 and not point.is_active
    bad = staff_client.post(reverse("console:pickup_point_new"), {**data, "keeper_phone": "13711112222"})
    assert bad.status_code == 400


def test_console_writeoff_and_batch_ship(staff_client, shop, shopper, point, posted_product):
    a, b = _orders(shop, shopper, point, posted_product, 2)
    resp = staff_client.post(reverse("console:pickup_writeoff"), {"code": a.pickup.code}, follow=True)
    assert a.number in resp.content.decode()
    a.refresh_from_db()
    assert a.status == S.COMPLETED
    again = staff_client.post(reverse("console:pickup_writeoff"), {"code": a.pickup.code}, follow=True)
    assert "boss" in again.content.decode()  # already picked up … by boss
    staff_client.post(reverse("console:pickup_batch_new"), {"point": point.public_id})
    batch = PickupOrder.objects.get(order=b).batch
    assert batch is not None and batch.order_count == 1
    staff_client.post(
        reverse("console:pickup_batch_ship", args=[batch.public_id]), {"carrier": "社区专送", "tracking_number": "B1"}
    )
    b.refresh_from_db()
    assert b.status == S.SHIPPED


def test_console_pages_are_shop_scoped(client, shop, other_shop, owner, point):
    stranger = make_staff(other_shop, username="next-door")
    client.force_login(stranger.user)
    assert client.get(reverse("console:pickup_point", args=[point.public_id])).status_code in (403, 404)
    assert client.post(reverse("console:pickup_writeoff"), {"code": "12345678"}).status_code == 403


def test_checkout_page_offers_pickup_and_places_a_pickup_order(client, shop, shopper, point, posted_product):
    sign_in_shopper(client, shopper)
    sku = posted_product.skus.get()
    url = reverse("storefront:checkout")
    page = client.get(url, {"sku": sku.pk, "quantity": 1, "fulfil": "pickup"})
    body = page.content.decode()
    assert page.status_code == 200 and "西湖团长点" in body and point.public_id in body
    resp = client.post(
        url,
        {
            "sku": sku.pk,
            "quantity": 1,
            "fulfil": "pickup",
            "pickup_point": point.public_id,
            "idempotency_key": "k" * 12,
        },
    )
    assert resp.status_code == 302
    entry = PickupOrder.objects.get(point=point)
    assert entry.order.shipping_fee == 0
    # The order page shows the code and QR once paid, not before.
    order_url = reverse("storefront:order", args=[entry.order.public_id])
    assert entry.code not in client.get(order_url).content.decode()
    pay(entry.order)
    shown = client.get(order_url).content.decode()
    assert entry.code in shown and reverse("storefront:pickup_qr", args=[entry.order.public_id]) in shown
    png = client.get(reverse("storefront:pickup_qr", args=[entry.order.public_id]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"


def test_checkout_page_costs_nothing_for_pickup_in_a_shop_without_points(
    client, shop, shopper, address, product, django_assert_num_queries
):
    from siyu.orders.pickup.flags import pickup_flags

    sign_in_shopper(client, shopper)
    sku = product.skus.get()
    client.get(reverse("storefront:checkout"), {"sku": sku.pk, "quantity": 1})
    with django_assert_num_queries(0):
        assert pickup_flags(shop_id=shop.pk) == (False, False)
    assert (
        "fulfil-choice"
        not in client.get(reverse("storefront:checkout"), {"sku": sku.pk, "quantity": 1}).content.decode()
    )


def test_other_shoppers_cannot_see_the_qr(client, shop, shopper, point, posted_product):
    from tests.factories import make_shopper

    order = place_pickup(shop, shopper, point, posted_product)
    pay(order)
    sign_in_shopper(client, make_shopper("13900003333"))
    assert client.get(reverse("storefront:pickup_qr", args=[order.public_id])).status_code == 404


def test_keeper_page_verifies_own_point_only(client, shop, owner, keeper, shopper, point, posted_product):
    from siyu.orders.pickup.points import pickup_point_create

    mine = _orders(shop, shopper, point, posted_product, 1)[0]
    elsewhere_point = pickup_point_create(actor=owner, shop=shop, data={**POINT, "name": "滨江店"})
    theirs = _orders(shop, shopper, elsewhere_point, make_product(shop, name="梨"), 1)[0]
    sign_in_shopper(client, keeper)
    url = reverse("storefront:pickup_keeper")
    assert client.get(url).status_code == 200
    assert url in client.get(reverse("storefront:my")).content.decode()
    client.post(url, {"code": theirs.pickup.code})
    client.post(url, {"code": mine.pickup.code})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == S.COMPLETED and theirs.status == S.PAID
    sign_in_shopper(client, shopper)  # not a keeper
    assert client.get(url).status_code == 404
    assert not re.search(r"pickup/verify", client.get(reverse("storefront:my")).content.decode())


def test_cart_checkout_with_pickup(client, shop, shopper, point, posted_product):
    from siyu.orders.checkout import cart_set
    from siyu.orders.models import CartLine

    sign_in_shopper(client, shopper)
    cart_set(shop=shop, shopper=shopper, sku_id=posted_product.skus.get().pk, quantity=3)
    resp = client.post(
        reverse("storefront:checkout"),
        {"from_cart": "1", "fulfil": "pickup", "pickup_point": point.public_id, "idempotency_key": "c" * 12},
    )
    assert resp.status_code == 302
    entry = PickupOrder.objects.get(point=point)
    assert entry.order.lines.get().quantity == 3 and entry.order.shipping_fee == 0
    assert not CartLine.objects.filter(shopper=shopper).exists()


@pytest.mark.parametrize("n", [1, 3])
def test_keeper_page_query_count(client, shop, owner, keeper, n, django_assert_num_queries):
    from siyu.orders.pickup.points import pickup_point_create

    for i in range(n):
        pickup_point_create(actor=owner, shop=shop, data={**POINT, "name": f"点{i}", "keeper_phone": "13900001111"})
    sign_in_shopper(client, keeper)
    url = reverse("storefront:pickup_keeper")
    client.get(url)  # warm the shop's flags
    with django_assert_num_queries(3):  # shop, shopper, the keeper's points
        resp = client.get(url)
    assert resp.status_code == 200 and "点0" in resp.content.decode()
