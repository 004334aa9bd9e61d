import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import address_create
from siyu.orders.checkout import order_place
from siyu.promotions.groupbuys.campaigns import groupbuy_create

from ...factories import make_product, make_shopper


def address_of(shop, shopper):
    return address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "李四",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )


def buy(shop, shopper, campaign, group=None, quantity=1, **kw):
    """Place a group-buy order: open a group (group=None) or join `group`."""
    promotion = f"group_buy:{campaign.public_id}" + (f":{group.public_id}" if group else "")
    address = shopper.addresses.filter(shop=shop).first() or address_of(shop, shopper)
    return order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": campaign.prices.get().sku_id, "quantity": quantity}],
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
        options={"promotion": promotion, **kw},
    )


def make_campaign(shop, owner, *, size=3, product=None, **data):
    product = product or make_product(shop, name="拼团蜜桃", price=5000, stock=100)
    now = timezone.now()
    return groupbuy_create(
        actor=owner,
        shop=shop,
        data={
            "name": "蜜桃三人团",
            "product": product.public_id,
            "prices": {product.skus.get().pk: 2990},
            "group_size": size,
            "hours": 24,
            "starts_at": now - timedelta(hours=1),
            "ends_at": now + timedelta(days=7),
            "per_customer_limit": 2,
            **data,
        },
    )


@pytest.fixture
def campaign(shop, owner):
    return make_campaign(shop, owner)


@pytest.fixture
def shoppers(db):
    return [make_shopper() for _ in range(8)]
