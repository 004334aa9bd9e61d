import pytest

from siyu.accounts.services import token_issue

from ..factories import make_staff

API = "/api/v1"
OTHER_API = "/s/other/api/v1"


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def owner_key(shop, owner) -> str:
    return token_issue(shop=shop, staff=owner, name="test")[1]


@pytest.fixture
def other_owner(other_shop):
    return make_staff(other_shop, username="otherboss")


@pytest.fixture
def other_key(other_shop, other_owner) -> str:
    return token_issue(shop=other_shop, staff=other_owner, name="other")[1]


@pytest.fixture
def shopper_key(shop, shopper) -> str:
    return token_issue(shop=shop, shopper=shopper, name="test")[1]


@pytest.fixture
def api(client, owner_key):
    """The test client with the owner's bearer token on every request."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {owner_key}"
    return client
