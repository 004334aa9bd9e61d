from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.promotions.bargains.campaigns import campaign_create

from ...factories import make_product, make_shopper


def campaign_data(sku, **extra) -> dict:
    now = timezone.now()
    return {
        "name": "砍价测试",
        "sku_id": sku.pk,
        "floor_price": 1000,
        "helps_needed": 5,
        "hours": 24,
        "starts_at": now - timedelta(minutes=1),
        "ends_at": now + timedelta(days=7),
        "stock_cap": 10,
        "buy_at_current": False,
        **extra,
    }


@pytest.fixture
def item(shop):
    """A product at ¥50.00 with 20 in stock."""
    return make_product(shop, name="砍价茶具", price=5000, stock=20)


@pytest.fixture
def sku(item):
    return item.skus.get()


@pytest.fixture
def campaign(shop, owner, sku):
    return campaign_create(actor=owner, shop=shop, data=campaign_data(sku))


@pytest.fixture
def friends(db):
    return [make_shopper(f"1367777{i:04d}") for i in range(12)]
