"""Fixtures for flash-sale tests: a running session with one item (flash stock 5 of the SKU's 20)."""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import address_create
from siyu.orders.checkout import order_submit
from siyu.promotions.flashsales import services

from ...factories import make_product, make_shopper

ADDRESS = {
    "recipient": "买家",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
}


def make_session(owner, shop, *, starts_in=timedelta(minutes=-1), length=timedelta(hours=1), name="十点场"):
    now = timezone.now()
    return services.flash_session_create(
        actor=owner, shop=shop, name=name, starts_at=now + starts_in, ends_at=now + starts_in + length
    )


def make_flash(owner, shop, product, *, flash_price=990, flash_stock=5, limit=1, schedule=True, **kw):
    session = make_session(owner, shop, **kw)
    item = services.flash_item_add(
        actor=owner,
        shop=shop,
        session_id=session.public_id,
        sku_id=product.skus.get().pk,
        flash_price=flash_price,
        flash_stock=flash_stock,
        per_customer_limit=limit,
    )
    if schedule:
        services.flash_session_schedule(actor=owner, shop=shop, session_id=session.public_id)
    item.refresh_from_db()
    return item


def buyer(shop, n: int):
    shopper = make_shopper(f"1390000{n:04d}")
    address = address_create(shop=shop, shopper=shopper, data={**ADDRESS, "phone": shopper.phone})
    return shopper, address


def flash_buy(shop, shopper, address, item, quantity=1, key=None):
    return order_submit(
        shop=shop,
        shopper=shopper,
        items=[{"sku": item.sku_id, "quantity": quantity}],
        address_id=address.public_id,
        idempotency_key=key or secrets.token_hex(8),
        options={"promotion": f"flash_sale:{item.public_id}"},
    ).order


@pytest.fixture
def phone(shop):
    return make_product(shop, name="秒杀手机", price=1990, stock=20)


@pytest.fixture
def item(owner, shop, phone):
    return make_flash(owner, shop, phone)
