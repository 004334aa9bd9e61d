import pytest
from django.core.cache import cache

from siyu.accounts.roles import OPERATOR
from siyu.accounts.services import address_create

from .factories import ShopFactory, make_product, make_shopper, make_staff, sign_in_shopper


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty default cache: counters kept there (scan limits per
    address) must not carry over from one test to the next."""
    cache.clear()
    yield


@pytest.fixture(autouse=True, scope="session")
def _redis_cleanup():
    """With SIYU_TEST_REDIS_URL: this run's keys and queue leave the shared Redis database at the end."""
    yield
    from .scale.redis_cache import redis_test_cleanup

    redis_test_cleanup()


@pytest.fixture
def shop(db):
    return ShopFactory(slug="main", name="私域优选", is_default=True)


@pytest.fixture
def other_shop(db):
    return ShopFactory(slug="other", name="隔壁小店")


@pytest.fixture
def owner(shop):
    return make_staff(shop, username="boss")


@pytest.fixture
def operator(shop, owner):
    return make_staff(shop, role=OPERATOR, username="operator1")


@pytest.fixture
def shopper(db):
    return make_shopper("13800138000")


@pytest.fixture
def address(shop, shopper):
    """A shipping address of `shopper` in `shop`."""
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
def product(shop):
    return make_product(shop)


@pytest.fixture
def staff_client(client, owner):
    client.force_login(owner.user)
    return client


@pytest.fixture
def shopper_client(client, shopper):
    sign_in_shopper(client, shopper)
    return client


@pytest.fixture
def postgres_only():
    """Concurrency tests with real threads: they run in make test's PostgreSQL pass (SQLite serialises writers)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (set SIYU_TEST_DATABASE_URL); SQLite serialises writers")
