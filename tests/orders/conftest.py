import pytest

from siyu.accounts.services import address_create

from ..factories import make_product


@pytest.fixture
def address(shop, shopper):
    return address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "王五",
            "phone": "13800138000",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )


@pytest.fixture
def limited(shop):
    return make_product(shop, name="限量茶", price=5000, stock=5)
