"""限时折扣: the price as a line offer, lowest wins, the per-customer limit, windows and floors."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from siyu.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from siyu.distribution.prices import price_floor_set
from siyu.orders.lifecycle import order_cancel
from siyu.promotions.discounts import limited
from siyu.promotions.discounts.models import LimitedTimeBuyer, LimitedTimeUse

from ...factories import make_product, make_shopper
from .conftest import buy, make_limited, quote, sku_of, window

pytestmark = pytest.mark.django_db


def test_fixed_price_and_percent_off(owner, shop, shopper, tea, cup):
    fixed = make_limited(owner, shop, tea, price=4800)
    make_limited(owner, shop, cup, off_bp=2500, name="七五折")
    q = quote(shop, shopper, (tea, 1), (cup, 1))
    by_product = {ln.sku.product_id: ln for ln in q.lines}
    assert by_product[tea.pk].unit_price == 4800 and by_product[tea.pk].promotion == f"limited_time:{fixed.public_id}"
    assert by_product[cup.pk].unit_price == 2250
    assert q.subtotal == 4800 + 2250


def test_anonymous_quote_shows_the_price(owner, shop, tea):
    make_limited(owner, shop, tea, price=4800)
    assert quote(shop, None, (tea, 1)).lines[0].unit_price == 4800


def test_order_lines_keep_list_and_unit_price(owner, shop, shopper, address, tea):
    discount = make_limited(owner, shop, tea, price=4800)
    order = buy(shop, shopper, address, (tea, 2))
    line = order.lines.get()
    assert (line.list_price, line.unit_price, line.line_total) == (6000, 4800, 9600)
    assert line.promotion == f"limited_time:{discount.public_id}" and order.subtotal == 9600


def test_outside_the_window_or_ended_no_price(owner, shop, shopper, tea):
    later = make_limited(owner, shop, tea, price=4800, **window(starts_in=timedelta(hours=2)))
    assert quote(shop, shopper, (tea, 1)).lines[0].unit_price == 6000
    limited.limited_end(actor=owner, shop=shop, discount_id=later.public_id)
    now = make_limited(owner, shop, tea, price=5000, name="now")
    assert quote(shop, shopper, (tea, 1)).lines[0].unit_price == 5000
    limited.limited_end(actor=owner, shop=shop, discount_id=now.public_id)
    assert quote(shop, shopper, (tea, 1)).lines[0].unit_price == 6000


def test_a_sku_is_in_one_discount_at_a_time(owner, shop, tea):
    make_limited(owner, shop, tea, price=4800)
    with pytest.raises(Conflict) as caught:
        make_limited(owner, shop, tea, price=4500, name="again")
    assert "items" in caught.value.detail
    make_limited(owner, shop, tea, price=4500, name="next week", **window(starts_in=timedelta(days=2)))


def test_per_customer_limit(owner, shop, shopper, address, tea):
    discount = make_limited(owner, shop, tea, price=4800, limit=2)
    assert quote(shop, shopper, (tea, 3)).lines[0].unit_price == 6000  # over the limit: the SKU's price
    first = buy(shop, shopper, address, (tea, 2))
    assert first.lines.get().unit_price == 4800
    assert LimitedTimeBuyer.objects.get(discount=discount, shopper=shopper).bought == 2
    assert quote(shop, shopper, (tea, 1)).lines[0].unit_price == 6000  # allowance used
    assert quote(shop, make_shopper("13900000001"), (tea, 1)).lines[0].unit_price == 4800  # others still may
    order_cancel(order_id=first.pk, actor=shopper)
    assert LimitedTimeBuyer.objects.get(discount=discount, shopper=shopper).bought == 0
    assert not LimitedTimeUse.objects.exists()
    assert limited.limits_give_back(order_id=first.pk) == 0  # once only
    assert quote(shop, shopper, (tea, 2)).lines[0].unit_price == 4800


def test_limit_checked_again_when_placing(owner, shop, shopper, address, tea, monkeypatch):
    """An order quoted within the limit while another order took the allowance: placing it is
    refused and rolls back (the conditional UPDATE decides, not the quote)."""
    discount = make_limited(owner, shop, tea, price=4800, limit=1)
    LimitedTimeBuyer.objects.create(shop=shop, discount=discount, shopper=shopper, bought=1)  # the racing order
    quoted = limited.limited_offers
    monkeypatch.setattr(limited, "limited_offers", lambda **kw: quoted(**{**kw, "shopper": None}))  # saw no use yet
    before = sku_of(tea).stock
    with pytest.raises(Conflict) as caught:
        buy(shop, shopper, address, (tea, 1))
    assert caught.value.code == "promotion_limit_reached"
    assert sku_of(tea).stock == before and not LimitedTimeUse.objects.exists()
    assert LimitedTimeBuyer.objects.get(discount=discount, shopper=shopper).bought == 1


def test_plain_cancel_costs_one_query(owner, shop, shopper, address, tea):
    order = buy(shop, shopper, address, (tea, 1))
    with CaptureQueriesContext(connection) as seen:
        limited.limits_give_back(order_id=order.pk)
    assert len(seen.captured_queries) == 1


def test_price_floor_refused_at_save_unless_overridden(owner, operator, shop, shopper, address, tea):
    price_floor_set(actor=owner, sku=sku_of(tea), min_price=5000)
    with pytest.raises(InvalidInput) as caught:
        make_limited(owner, shop, tea, price=4800)
    assert caught.value.code == "below_price_floor" and caught.value.detail["min_price"] == 5000
    with pytest.raises(InvalidInput):
        make_limited(owner, shop, tea, off_bp=2000)  # 48.00 too
    make_limited(owner, shop, tea, price=5000, name="at the floor")


def test_price_floor_override_is_audited_and_sells(owner, shop, shopper, address, tea):
    from siyu.core.models import AuditEntry

    price_floor_set(actor=owner, sku=sku_of(tea), min_price=5000)
    make_limited(owner, shop, tea, price=4800, override_reason="清仓")
    assert AuditEntry.objects.filter(action="price_floor.override", data__price=4800).exists()
    order = buy(shop, shopper, address, (tea, 1))
    assert order.lines.get().unit_price == 4800


def test_floor_raised_later_refuses_at_checkout(owner, shop, shopper, address, tea):
    make_limited(owner, shop, tea, price=4800)
    price_floor_set(actor=owner, sku=sku_of(tea), min_price=5000)
    with pytest.raises(Conflict) as caught:
        buy(shop, shopper, address, (tea, 1))
    assert caught.value.code == "below_price_floor"


def test_service_role_may_not_create(shop, tea):
    from siyu.accounts.roles import SERVICE

    from ...factories import make_staff

    with pytest.raises(PermissionDenied):
        make_limited(make_staff(shop, role=SERVICE, username="service9"), shop, tea, price=4800)


@pytest.mark.parametrize(
    "item",
    [
        {"sku": 999999, "price": 100},
        {"sku": None, "price": 100},
        {"price": 100},
        {"sku": "SKU", "price": 100, "off_bp": 10},
        {"sku": "SKU"},
        {"sku": "SKU", "off_bp": 10000},
        {"sku": "SKU", "price": 6000},
        {"sku": "SKU", "price": "-1"},
    ],
)
def test_invalid_items(owner, shop, tea, item):
    item = {k: (sku_of(tea).pk if v == "SKU" and k == "sku" else v) for k, v in item.items()}
    if item.get("sku") == "SKU":
        item["sku"] = sku_of(tea).pk
    with pytest.raises(DomainError) as caught:
        limited.limited_save(actor=owner, shop=shop, data={"name": "x", "items": [item], **window()})
    assert caught.value.status in (400, 404, 409)


def test_lowest_offer_wins_between_two_kinds(owner, shop, shopper, tea):
    from .conftest import make_level, set_member_price

    level = make_level(shop, discount_bp=0)
    make_limited(owner, shop, tea, price=4800)
    set_member_price(owner, shop, tea, level, 4500)
    assert quote(shop, shopper, (tea, 1)).lines[0].promotion.startswith("member_price:")
    other = make_product(shop, name="other", price=6000)
    set_member_price(owner, shop, other, level, 5900)
    make_limited(owner, shop, other, price=5000, name="o")
    assert quote(shop, shopper, (other, 1)).lines[0].promotion.startswith("limited_time:")
