import pytest

from siyu.accounts.roles import SERVICE

from ..factories import make_staff
from .helpers import login_client


@pytest.fixture
def en_client(staff_client):
    """The owner's client with English chosen, so tests can read messages without compiled catalogues."""
    staff_client.cookies["django_language"] = "en"
    return staff_client


@pytest.fixture
def service_client(shop, owner):
    return login_client(make_staff(shop, role=SERVICE, username="kefu"))


@pytest.fixture
def other_owner(other_shop):
    return make_staff(other_shop, username="rival")


@pytest.fixture
def other_client(other_owner):
    return login_client(other_owner)
