"""Fixtures and steps for the discount tests: activities, limited-time discounts, member prices."""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.catalog.models import Sku
from siyu.customers.models import Customer, MemberLevel
from siyu.orders.checkout import order_place, order_quote
from siyu.promotions.discounts import limited, member_prices, thresholds

from ...factories import make_product


def window(starts_in=timedelta(minutes=-1), length=timedelta(days=1)) -> dict:
    now = timezone.now()
    return {"starts_at": (now + starts_in).isoformat(), "ends_at": (now + starts_in + length).isoformat()}


def make_threshold(owner, shop, *, tiers=((10000, 1000),), mode="amount", **data):
    payload = {
        "name": data.pop("name", "满100减10"),
        "mode": mode,
        "tiers": [{"threshold": t, "value": v} for t, v in tiers],
        "stacks_with_coupons": data.pop("stacks_with_coupons", True),
        **window(),
        **data,
    }
    return thresholds.threshold_save(actor=owner, shop=shop, data=payload)


def make_limited(owner, shop, product, *, price=None, off_bp=None, limit=0, **data):
    sku = product.skus.get()
    item = {"sku": sku.pk, **({"price": price} if price is not None else {"off_bp": off_bp})}
    payload = {"name": data.pop("name", "限时特惠"), "per_customer_limit": limit, "items": [item], **window(), **data}
    return limited.limited_save(actor=owner, shop=shop, data=payload)


def make_level(shop, *, name="金卡", min_spend=0, discount_bp=1000):
    return MemberLevel.objects.create(shop=shop, name=name, min_spend=min_spend, discount_bp=discount_bp)


def make_member(shop, shopper, spent: int = 0) -> Customer:
    return Customer.objects.create(
        shop=shop, shopper=shopper, public_id=secrets.token_hex(6), phone_hash=shopper.phone_hash, total_spent=spent
    )


def set_member_price(owner, shop, product, level, price, **kw):
    sku = product.skus.get()
    return member_prices.member_prices_set(
        actor=owner, shop=shop, product=product, prices=[{"sku": sku.pk, "level": level.pk, "price": price}], **kw
    )


def quote(shop, shopper, *pairs, **options):
    """Quote (product, quantity) pairs for `shopper`."""
    items = [{"sku": p.skus.get().pk, "quantity": q} for p, q in pairs]
    return order_quote(shop=shop, items=items, shopper=shopper, options=options)


def buy(shop, shopper, address, *pairs, **options):
    items = [{"sku": p.skus.get().pk, "quantity": q} for p, q in pairs]
    return order_place(
        shop=shop,
        shopper=shopper,
        items=items,
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
        options=options,
    )


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", price=6000, stock=100)


@pytest.fixture
def cup(shop):
    return make_product(shop, name="茶杯", price=3000, stock=100)


def sku_of(product) -> Sku:
    return product.skus.get()
