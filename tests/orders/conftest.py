import pytest

from ..factories import make_product


@pytest.fixture
def limited(shop):
    return make_product(shop, name="限量茶", price=5000, stock=5)
