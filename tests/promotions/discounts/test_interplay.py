"""Discounts with the rest of the shop: commissions and points on what was paid, refunds spread
the discounts over the lines (never more than was paid), promotions on the order and in results."""

import pytest

from siyu.distribution.models import Commission
from siyu.orders.models import AfterSale, Order
from siyu.promotions.results import promotion_results

from ...distribution.promoter_steps import refund_line, world
from ...factories import make_product
from ...orders.helpers import pay
from .conftest import buy, make_level, make_limited, make_threshold, set_member_price

pytestmark = pytest.mark.django_db


def test_commission_is_on_what_was_paid_after_the_threshold_discount(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1000)  # tea at 100.00
    make_threshold(owner, shop, tiers=((20000, 3000),))
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(shop, w.buyer, w.address, (w.tea, 2))
        Order.objects.filter(pk=order.pk).update(ref_code=w.promoter.shopper.share_code)
        pay(order)
    order.refresh_from_db()
    assert order.discount == 3000 and order.paid_amount == order.total
    commission = Commission.objects.get(order=order)
    assert commission.base_amount == 17000 and commission.amount == 1700


def test_commission_on_limited_time_price(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner, default_rate_bp=1000)
    make_limited(owner, shop, w.tea, price=8000)
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(shop, w.buyer, w.address, (w.tea, 1))
        Order.objects.filter(pk=order.pk).update(ref_code=w.promoter.shopper.share_code)
        pay(order)
    assert Commission.objects.get(order=order).base_amount == 8000


def test_partial_refund_returns_the_discount_proportionally(shop, owner, django_capture_on_commit_callbacks):
    w = world(shop, owner)  # tea at 100.00
    cup = make_product(shop, name="茶杯", price=5000, stock=10)
    make_threshold(owner, shop, tiers=((15000, 3000),))
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(shop, w.buyer, w.address, (w.tea, 1), (cup, 1))  # 150.00 − 30.00
        pay(order)
    order.refresh_from_db()
    assert order.discount == 3000
    tea_line = order.lines.get(product=w.tea)
    cup_line = order.lines.get(product=cup)
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 1, line=cup_line)
    order.refresh_from_db()
    # the cup's share: 50.00 of 150.00 → 10.00 of the 30.00 discount: 40.00 back
    assert order.refunded_amount == 4000
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 1, line=tea_line)
    order.refresh_from_db()
    assert order.refunded_amount <= order.paid_amount
    assert order.refunded_amount == order.paid_amount  # nothing shipped: all of it, postage too
    assert AfterSale.objects.filter(order=order).count() == 2


def test_points_and_member_discount_after_the_threshold(owner, shop, shopper, address, tea, cup):
    """Threshold first (priority 10), then the level's percentage on what is left."""
    make_level(shop, discount_bp=1000)
    make_threshold(owner, shop, tiers=((10000, 2000),))
    order = buy(shop, shopper, address, (tea, 2))  # 120.00 − 20.00 = 100.00, then 10%
    kinds = [(a["kind"], a["amount"]) for a in order.adjustments]
    assert kinds == [("threshold_discount", 2000), ("member_discount", 1000)]
    assert order.discount == 3000


def test_promotions_show_on_the_order_and_in_results(owner, shop, shopper, address, tea, cup):
    level = make_level(shop, discount_bp=0)
    activity = make_threshold(owner, shop, tiers=((5000, 500),))
    discount = make_limited(owner, shop, tea, price=5500)
    set_member_price(owner, shop, cup, level, 2800)
    order = buy(shop, shopper, address, (tea, 1), (cup, 1))
    promotions = {ln.promotion for ln in order.lines.all()}
    assert promotions == {f"limited_time:{discount.public_id}", f"member_price:{level.pk}"}
    assert order.adjustments == [
        {"kind": "threshold_discount", "label": order.adjustments[0]["label"], "amount": 500, "ref": activity.public_id}
    ]
    placed = promotion_results(shop=shop, kind="threshold_discount", ref=activity.public_id)
    assert placed.orders_placed == 1 and placed.discount_placed == 500
    assert promotion_results(shop=shop, kind="limited_time", ref=discount.public_id).orders_placed == 1


@pytest.mark.parametrize("stacks", [True, False])
def test_a_threshold_that_does_not_stack_keeps_coupons_out(owner, shop, shopper, address, tea, stacks):
    from ..coupons.steps import claimed

    make_threshold(owner, shop, tiers=((10000, 1000),), stacks_with_coupons=stacks)
    claimed(shop, owner, shopper, amount_off=500, min_spend=5000)
    order = buy(shop, shopper, address, (tea, 2))  # 120.00
    kinds = [a["kind"] for a in order.adjustments]
    assert kinds == (["threshold_discount", "coupon"] if stacks else ["threshold_discount"])
    assert order.discount == (1500 if stacks else 1000)
