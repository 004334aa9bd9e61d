"""满减 / 满折: tiers, scope, exclusive lines, repeat with a cap, stacking flag, saving rules."""

from datetime import timedelta

import pytest

from siyu.accounts.roles import SERVICE
from siyu.core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from siyu.orders.pricing import LinePrice, register_line_pricer
from siyu.promotions.discounts import thresholds
from siyu.promotions.discounts.models import Status

from ...factories import CategoryFactory, make_product, make_staff
from .conftest import buy, make_threshold, quote, window

pytestmark = pytest.mark.django_db


def _threshold(q):
    return [a for a in q.adjustments if a.kind == "threshold_discount"]


def test_best_reached_tier_applies(owner, shop, shopper, tea, cup):
    activity = make_threshold(owner, shop, tiers=((10000, 1000), (20000, 3000)))
    assert _threshold(quote(shop, shopper, (tea, 1))) == []  # 60 < 100
    found = _threshold(quote(shop, shopper, (tea, 1), (cup, 2)))  # 120
    assert [(a.amount, a.ref, a.exclusive) for a in found] == [(1000, activity.public_id, False)]
    q = quote(shop, shopper, (tea, 3), (cup, 1))  # 210
    assert _threshold(q)[0].amount == 3000
    assert q.discount == 3000 and q.total == q.subtotal + q.shipping_fee - 3000


def test_rate_tier_pays_a_share(owner, shop, shopper, tea):
    make_threshold(owner, shop, mode="rate", tiers=((10000, 9000), (20000, 8500)))
    assert _threshold(quote(shop, shopper, (tea, 2)))[0].amount == 1200  # 120 × 10%
    assert _threshold(quote(shop, shopper, (tea, 4)))[0].amount == 3600  # 240 × 15%


def test_repeat_every_threshold_with_cap(owner, shop, shopper, tea):
    make_threshold(owner, shop, tiers=((5000, 500),), repeat=True, repeat_cap=1200)
    assert _threshold(quote(shop, shopper, (tea, 1)))[0].amount == 500  # 60: once
    assert _threshold(quote(shop, shopper, (tea, 2)))[0].amount == 1000  # 120: twice
    assert _threshold(quote(shop, shopper, (tea, 5)))[0].amount == 1200  # 300: six times, capped


def test_scope_categories_products_and_exclusions(owner, shop, shopper):
    drinks = CategoryFactory(shop=shop, name="饮品")
    teas = CategoryFactory(shop=shop, name="茶", parent=drinks)
    tea = make_product(shop, name="红茶", price=6000, category=teas)
    pot = make_product(shop, name="茶壶", price=6000)
    make_threshold(owner, shop, scope="categories", scope_ids=[drinks.pk], tiers=((10000, 1000),))
    assert _threshold(quote(shop, shopper, (tea, 1), (pot, 1))) == []  # only 60 counts
    assert _threshold(quote(shop, shopper, (tea, 2)))[0].amount == 1000  # subcategory counts
    other = make_threshold(owner, shop, scope="products", scope_ids=[pot.public_id], tiers=((10000, 1500),), name="壶")
    assert _threshold(quote(shop, shopper, (pot, 2)))[0].ref == other.public_id
    make_threshold(owner, shop, tiers=((10000, 5000),), excluded_products=[tea.public_id, pot.public_id], name="x")
    assert _threshold(quote(shop, shopper, (pot, 2)))[0].amount == 1500  # excluded from the biggest one


def test_one_activity_the_best_for_the_shopper(owner, shop, shopper, tea):
    make_threshold(owner, shop, tiers=((10000, 1000),), name="a")
    best = make_threshold(owner, shop, tiers=((10000, 2000),), name="b", stacks_with_coupons=False)
    found = _threshold(quote(shop, shopper, (tea, 2)))
    assert [(a.ref, a.amount, a.exclusive) for a in found] == [(best.public_id, 2000, True)]


def test_scheduled_and_ended_activities_do_not_apply(owner, shop, shopper, tea):
    make_threshold(owner, shop, **window(starts_in=timedelta(hours=1)))
    assert _threshold(quote(shop, shopper, (tea, 2))) == []
    running = make_threshold(owner, shop, name="now")
    assert _threshold(quote(shop, shopper, (tea, 2)))
    ended = thresholds.threshold_end(actor=owner, shop=shop, activity_id=running.public_id)
    assert ended.status == Status.ENDED
    assert _threshold(quote(shop, shopper, (tea, 2))) == []
    with pytest.raises(Conflict):
        thresholds.threshold_end(actor=owner, shop=shop, activity_id=running.public_id)
    with pytest.raises(Conflict):
        thresholds.threshold_save(
            actor=owner,
            shop=shop,
            activity_id=running.public_id,
            data={"name": "again", "tiers": [{"threshold": 100, "value": 10}], **window()},
        )


def test_lines_priced_by_an_exclusive_promotion_do_not_count(owner, shop, shopper, tea, cup):
    make_threshold(owner, shop, tiers=((10000, 1000),))
    cup_sku = cup.skus.get().pk

    def flash(*, shop, shopper, lines, options):
        if options.get("promotion") != "fake:test":
            return {}
        return {cup_sku: LinePrice(unit_price=2900, kind="flash_sale", label="秒杀", ref="test", exclusive=True)}

    from siyu.orders import pricing

    register_line_pricer(flash)
    try:
        assert _threshold(quote(shop, shopper, (tea, 1), (cup, 2)))  # 120: reached
        assert _threshold(quote(shop, shopper, (tea, 1), (cup, 2), promotion="fake:test")) == []  # 60 counts
    finally:
        pricing._pricers[:] = [h for h in pricing._pricers if h.func is not flash]


def test_order_records_the_activity(owner, shop, shopper, address, tea):
    activity = make_threshold(owner, shop, tiers=((10000, 1000),))
    order = buy(shop, shopper, address, (tea, 2))
    assert order.discount == 1000
    assert order.adjustments[0]["kind"] == "threshold_discount" and order.adjustments[0]["ref"] == activity.public_id
    assert order.total == 12000 + order.shipping_fee - 1000


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tiers": []}, "tiers"),
        ({"tiers": [{"threshold": 100, "value": 200}]}, "tiers.0.value"),
        ({"tiers": [{"threshold": 100, "value": 50}, {"threshold": 200, "value": 40}]}, "tiers"),
        ({"mode": "rate", "tiers": [{"threshold": 100, "value": 10000}]}, "tiers.0.value"),
        ({"mode": "rate", "repeat": True, "tiers": [{"threshold": 100, "value": 9000}]}, "repeat"),
        ({"scope": "products", "scope_ids": []}, "scope_ids"),
        ({"scope": "products", "scope_ids": ["nope"]}, "scope_ids"),
        ({"scope": "categories", "scope_ids": [999999]}, "scope_ids"),
        ({"name": ""}, "name"),
        ({"ends_at": "2001-01-01T00:00"}, "ends_at"),
        ({"starts_at": "yesterday"}, "starts_at"),
    ],
)
def test_invalid_activities_are_refused_with_the_field(owner, shop, data, field):
    """Malformed: 400; not fitting together: 409; unknown ids: 404; each naming the field."""
    payload = {"name": "满减", "tiers": [{"threshold": 10000, "value": 1000}], **window(), **data}
    with pytest.raises(DomainError) as caught:
        thresholds.threshold_save(actor=owner, shop=shop, data=payload)
    assert field in caught.value.detail
    expected = InvalidInput if field in ("name", "starts_at") or data == {"tiers": []} else (Conflict, NotFound)
    assert isinstance(caught.value, expected)


def test_other_shops_and_roles(owner, shop, other_shop):
    stranger = make_staff(other_shop, username="other-boss")
    service = make_staff(shop, role=SERVICE, username="service1")
    with pytest.raises(PermissionDenied):
        make_threshold(stranger, shop)
    with pytest.raises(PermissionDenied):
        make_threshold(service, shop)
    activity = make_threshold(owner, shop)
    with pytest.raises(NotFound):
        thresholds.threshold_end(actor=stranger, shop=other_shop, activity_id=activity.public_id)
