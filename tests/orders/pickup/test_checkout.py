"""Checkout with pickup: no postage, no address needed, exactly one of address and point."""

import secrets

import pytest

from siyu.core.errors import InvalidInput
from siyu.orders.checkout import order_place, order_quote
from siyu.orders.pickup.models import PickupOrder
from siyu.orders.pickup.points import pickup_point_update

from .conftest import POINT, place_pickup


def test_pickup_order_has_no_postage_and_the_points_address(shop, shopper, point, posted_product):
    order = place_pickup(shop, shopper, point, posted_product, quantity=2)
    assert order.subtotal == 3980
    assert order.shipping_fee == 0
    assert order.total == 3980
    assert (order.recipient, order.province, order.city, order.district) == ("西湖团长点", "浙江省", "杭州市", "西湖区")
    assert order.address_detail == "文三路 8 号"
    pickup = PickupOrder.objects.get(order=order)
    assert pickup.point == point and pickup.shop == shop
    assert len(pickup.code) == 8 and pickup.code.isdigit()
    assert pickup.verified_at is None


def test_delivery_of_the_same_basket_pays_postage(shop, shopper, address, point, posted_product):
    sku = posted_product.skus.get()
    quote = order_quote(shop=shop, items=[{"sku": sku.pk, "quantity": 2}], province="浙江省")
    assert quote.shipping_fee == 800
    assert order_quote(shop=shop, items=[{"sku": sku.pk, "quantity": 2}], pickup=True).shipping_fee == 0
    order = order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": sku.pk, "quantity": 2}],
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
    )
    assert order.shipping_fee == 800
    assert not PickupOrder.objects.filter(order=order).exists()


def test_both_address_and_point_is_refused(shop, shopper, address, point, posted_product):
    with pytest.raises(InvalidInput) as err:
        place_pickup(shop, shopper, point, posted_product, address_id=address.public_id)
    assert err.value.code == "address_or_pickup"
    assert not PickupOrder.objects.exists()


def test_neither_address_nor_point_is_refused(shop, shopper, point, posted_product):
    sku = posted_product.skus.get()
    with pytest.raises(InvalidInput) as err:
        order_place(shop=shop, shopper=shopper, items=[{"sku": sku.pk, "quantity": 1}], idempotency_key="k" * 10)
    assert err.value.detail == {"address": "not found"}


def test_inactive_or_other_shops_point_is_refused(shop, other_shop, owner, shopper, point, posted_product):
    pickup_point_update(actor=owner, shop=shop, public_id=point.public_id, data={**POINT, "is_active": False})
    with pytest.raises(InvalidInput) as err:
        place_pickup(shop, shopper, point, posted_product)
    assert err.value.detail == {"pickup_point": "not found"}
    from siyu.orders.pickup.models import PickupPoint

    PickupPoint.objects.filter(pk=point.pk).update(is_active=True, shop=other_shop)
    with pytest.raises(InvalidInput):
        place_pickup(shop, shopper, point, posted_product)


def test_codes_are_random_and_unique_in_the_shop(shop, shopper, point, posted_product, monkeypatch):
    codes = {place_pickup(shop, shopper, point, posted_product).pickup.code for _ in range(5)}
    assert len(codes) == 5
    # A drawn code already taken is drawn again in a savepoint: the order still goes through.
    from siyu.orders.pickup import codes as codes_module

    taken = next(iter(codes))
    draws = iter([taken, taken, "12345678"])
    monkeypatch.setattr(codes_module, "pickup_code_new", lambda: next(draws))
    order = place_pickup(shop, shopper, point, posted_product)
    assert PickupOrder.objects.get(order=order).code == "12345678"


def test_code_generator_is_not_sequential():
    from siyu.orders.pickup.codes import pickup_code_new

    drawn = [pickup_code_new() for _ in range(200)]
    assert all(len(c) == 8 and c.isdigit() for c in drawn)
    assert len(set(drawn)) >= 199
    assert sorted(drawn) != drawn


def test_point_validation(shop, owner):
    from siyu.orders.pickup.points import pickup_point_create

    with pytest.raises(InvalidInput) as err:
        pickup_point_create(
            actor=owner,
            shop=shop,
            data={**POINT, "province": "火星", "opens_at": "25:00", "keeper_phone": "13711112222", "open_days": [9]},
        )
    detail = err.value.detail
    assert {"opens_at", "keeper_phone", "open_days"} <= detail.keys()
