"""Queries compiled once and run again with other values (siyu/core/prepared.py): the statement run
must be the ORM's own for the real values, and the objects made from it the ORM's objects."""

import pytest

from siyu.accounts import selectors
from siyu.accounts import services as account_services
from siyu.accounts.models import Address
from siyu.accounts.selectors import address_find, address_get
from siyu.accounts.services import token_authenticate, token_issue
from siyu.core.errors import NotFound

from ..factories import make_shopper

pytestmark = pytest.mark.django_db


def test_the_address_read_is_the_orm_query_for_the_real_values(shop, shopper, address):
    expected = selectors._address_query(shop_id=shop.pk, shopper_id=shopper.pk, public_id=address.public_id)
    sql, params = selectors._ADDRESS_READ.sql_with_params(shop=shop.pk, shopper=shopper.pk, public_id=address.public_id)
    assert (sql, params) == (expected.query.sql_with_params()[0], list(expected.query.sql_with_params()[1]))


def test_the_address_read_finds_only_the_shoppers_own_and_decrypts_it(
    shop, shopper, address, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = address_find(shop=shop, shopper=shopper, public_id=address.public_id)
    reference = Address.objects.get(pk=address.pk)
    assert found is not None and found.pk == address.pk
    assert (found.phone, found.detail, found.recipient) == (reference.phone, reference.detail, reference.recipient)
    assert found._state.adding is False
    assert address_find(shop=shop, shopper=make_shopper(), public_id=address.public_id) is None
    with pytest.raises(NotFound):
        address_get(shop=shop, shopper=shopper, public_id="nope")


def test_the_token_read_is_the_orm_query_and_signs_in_the_right_holder(shop, owner, shopper):
    _, staff_key = token_issue(shop=shop, staff=owner, name="erp")
    _, shopper_key = token_issue(shop=shop, shopper=shopper, name="app")
    expected = account_services._token_query(key_hash=account_services._token_hash(staff_key)).query
    sql, params = account_services._TOKEN_READ.sql_with_params(key=account_services._token_hash(staff_key))
    assert (sql, params) == (expected.sql_with_params()[0], list(expected.sql_with_params()[1]))
    staff_token = token_authenticate(key=staff_key)
    assert staff_token.staff == owner and staff_token.staff.user == owner.user and staff_token.shopper is None
    assert token_authenticate(key=shopper_key).shopper == shopper
    assert token_authenticate(key="sy_" + "x" * 40) is None
