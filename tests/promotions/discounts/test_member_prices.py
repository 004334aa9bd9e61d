"""会员价: per SKU per level, replacing the level's percentage for that SKU; floors; the matrix."""

import pytest

from siyu.core.errors import DomainError, InvalidInput, PermissionDenied
from siyu.distribution.prices import price_floor_set
from siyu.promotions.discounts import member_prices
from siyu.promotions.discounts.models import MemberPrice

from ...factories import make_shopper
from .conftest import buy, make_level, make_member, quote, set_member_price, sku_of

pytestmark = pytest.mark.django_db


def _member_discount(q) -> int:
    return sum(a.amount for a in q.adjustments if a.kind == "member_discount")


def test_member_price_for_the_shoppers_level_only(owner, shop, shopper, tea):
    silver = make_level(shop, name="银卡", min_spend=0, discount_bp=0)
    gold = make_level(shop, name="金卡", min_spend=100000, discount_bp=0)
    set_member_price(owner, shop, tea, gold, 4500)
    assert quote(shop, shopper, (tea, 1)).lines[0].unit_price == 6000  # silver: none
    make_member(shop, shopper, spent=200000)
    line = quote(shop, shopper, (tea, 1)).lines[0]
    assert (line.unit_price, line.promotion) == (4500, f"member_price:{gold.pk}")
    assert quote(shop, None, (tea, 1)).lines[0].unit_price == 6000  # anonymous: no level
    assert silver.pk != gold.pk


def test_member_price_replaces_the_percentage_for_that_sku(owner, shop, shopper, tea, cup):
    level = make_level(shop, discount_bp=1000)  # 10% off everything
    set_member_price(owner, shop, tea, level, 5000)
    q = quote(shop, shopper, (tea, 1), (cup, 1))
    assert q.subtotal == 5000 + 3000
    assert _member_discount(q) == 300  # 10% of the cup only
    q = quote(shop, shopper, (cup, 2))
    assert _member_discount(q) == 600


def test_points_still_count_the_member_priced_lines(owner, shop, shopper, tea):
    """The percentage leaves a member-priced line out, the points cap does not."""
    from siyu.customers.membership import member_adjustments

    level = make_level(shop, discount_bp=1000)
    found = member_adjustments(shop=shop, shopper=shopper, level=level, subtotal=10000, options={}, discountable=0)
    assert found[0].amount == 0
    found = member_adjustments(shop=shop, shopper=shopper, level=level, subtotal=10000, options={})
    assert found[0].amount == 1000


def test_order_line_and_breakdown(owner, shop, shopper, address, tea):
    level = make_level(shop, discount_bp=500)
    set_member_price(owner, shop, tea, level, 5000)
    order = buy(shop, shopper, address, (tea, 2))
    line = order.lines.get()
    assert (line.list_price, line.unit_price, line.promotion) == (6000, 5000, f"member_price:{level.pk}")
    assert order.discount == 0 and order.subtotal == 10000


def test_matrix_replaces_and_clears(owner, shop, tea):
    a, b = make_level(shop, name="A", min_spend=0), make_level(shop, name="B", min_spend=1000)
    sku = sku_of(tea).pk
    n = member_prices.member_prices_set(
        actor=owner,
        shop=shop,
        product=tea,
        prices=[{"sku": sku, "level": a.pk, "price": "55.00"}, {"sku": sku, "level": b.pk, "price": 5000}],
    )
    assert n == 2 and sorted(MemberPrice.objects.values_list("price", flat=True)) == [5000, 5500]
    member_prices.member_prices_set(
        actor=owner, shop=shop, product=tea, prices=[{"sku": sku, "level": a.pk, "price": ""}]
    )
    assert not MemberPrice.objects.exists()


@pytest.mark.parametrize(
    "cell",
    [
        {"sku": 0, "level": "L", "price": 100},
        {"sku": "S", "level": 0, "price": 100},
        {"sku": "S", "level": "L", "price": 6000},
        {"sku": "S", "level": "L", "price": "abc"},
        {"sku": "x", "level": "L", "price": 1},
        "cell",
    ],
)
def test_invalid_cells(owner, shop, tea, cell):
    level = make_level(shop)
    if isinstance(cell, dict):
        cell = {k: sku_of(tea).pk if v == "S" else level.pk if v == "L" else v for k, v in cell.items()}
    with pytest.raises(DomainError) as caught:
        member_prices.member_prices_set(actor=owner, shop=shop, product=tea, prices=[cell])
    assert caught.value.status in (400, 404, 409)


def test_floor_refused_at_save_and_override_audited(owner, shop, shopper, address, tea):
    level = make_level(shop, discount_bp=0)
    price_floor_set(actor=owner, sku=sku_of(tea), min_price=5000)
    with pytest.raises(InvalidInput) as caught:
        set_member_price(owner, shop, tea, level, 4000)
    assert caught.value.code == "below_price_floor" and caught.value.detail["min_price"] == 5000
    set_member_price(owner, shop, tea, level, 4000, override_reason="会员日")
    assert buy(shop, shopper, address, (tea, 1)).lines.get().unit_price == 4000


def test_floor_raised_later_refuses_at_checkout(owner, shop, shopper, address, tea):
    from siyu.core.errors import Conflict

    level = make_level(shop, discount_bp=0)
    set_member_price(owner, shop, tea, level, 4000)
    price_floor_set(actor=owner, sku=sku_of(tea), min_price=5000)
    with pytest.raises(Conflict):
        buy(shop, shopper, address, (tea, 1))
    other = make_shopper("13900000002")  # anonymous-like: no level reached? min_spend 0 reaches it
    assert quote(shop, other, (tea, 1)).lines[0].unit_price == 4000


def test_other_shops_product_and_role(owner, shop, other_shop, tea):
    from ...factories import make_staff

    stranger = make_staff(other_shop, username="other-boss")
    with pytest.raises(PermissionDenied):
        member_prices.member_prices_set(actor=stranger, shop=shop, product=tea, prices=[])
    from siyu.core.errors import NotFound

    with pytest.raises(NotFound):
        member_prices.product_for_prices(shop=other_shop, public_id=tea.public_id)
