import secrets

import pytest

from siyu.orders.checkout import order_place
from siyu.orders.pickup.points import pickup_point_create
from tests.factories import ShippingTemplateFactory, make_product, make_shopper

POINT = {
    "name": "西湖团长点",
    "phone": "0571-88886666",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 8 号",
    "hours": "每天 9:00-20:00",
    "open_days": [0, 1, 2, 3, 4, 5, 6],
    "opens_at": "09:00",
    "closes_at": "20:00",
}


@pytest.fixture
def keeper(db):
    return make_shopper("13900001111")


@pytest.fixture
def point(shop, owner, keeper):
    return pickup_point_create(actor=owner, shop=shop, data={**POINT, "keeper_phone": "13900001111"})


@pytest.fixture
def posted_product(shop):
    """A product whose template charges postage (8 yuan under 99), so "no postage" can be seen."""
    template = ShippingTemplateFactory(shop=shop)
    return make_product(shop, price=1990, stock=50, shipping_template=template)


def place_pickup(shop, shopper, point, product, quantity=1, **extra):
    sku = product.skus.get()
    return order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": sku.pk, "quantity": quantity}],
        pickup_point=point.public_id,
        idempotency_key=secrets.token_hex(8),
        **extra,
    )
