"""The flash-sale item read that prices every flash buy is compiled once (siyu/core/prepared.py): its
statement must be the ORM's own for the real values, and the item it makes the ORM's item."""

import pytest

from siyu.promotions.flashsales import buying

from ...factories import make_shopper
from .conftest import buyer, flash_buy, make_flash

pytestmark = pytest.mark.django_db

FIELDS = ("sku_id", "flash_price", "stock_left", "per_customer_limit", "stock_taken", "stock_returned")


@pytest.mark.parametrize("signed_in", [True, False])
def test_the_item_read_is_the_orm_query_and_makes_the_orm_item(owner, shop, phone, signed_in):
    item = make_flash(owner, shop, phone, flash_stock=5, limit=2)
    shopper, address = buyer(shop, 1)
    flash_buy(shop, shopper, address, item)  # the shopper now holds one
    shopper_id = shopper.pk if signed_in else None
    expected = buying._item_query(shop_id=shop.pk, ref=item.public_id, shopper_id=shopper_id)
    sql, params = buying._ITEM_READ.sql_with_params(
        shape=signed_in, shop=shop.pk, ref=item.public_id, shopper=shopper_id
    )
    assert (sql, params) == (expected.query.sql_with_params()[0], list(expected.query.sql_with_params()[1]))
    (ours,) = buying._ITEM_READ.fetch(shape=signed_in, shop=shop.pk, ref=item.public_id, shopper=shopper_id)
    (orms,) = list(expected)
    assert ours.pk == orms.pk and [getattr(ours, f) for f in FIELDS] == [getattr(orms, f) for f in FIELDS]
    assert (ours.session.status, ours.session.starts_at, ours.session.pay_minutes) == (
        orms.session.status,
        orms.session.starts_at,
        orms.session.pay_minutes,
    )
    assert getattr(ours, "held", None) == getattr(orms, "held", None) == (1 if signed_in else None)
    if signed_in:  # someone else holds nothing
        other = make_shopper("13900009999")
        (theirs,) = buying._ITEM_READ.fetch(shape=True, shop=shop.pk, ref=item.public_id, shopper=other.pk)
        assert theirs.held is None
    assert buying._ITEM_READ.fetch(shape=signed_in, shop=shop.pk, ref="nope", shopper=shopper_id) == []
