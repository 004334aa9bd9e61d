"""Which grant an order uses (the exact code the shopper picked, or the best one) and what a
free-shipping coupon records as its discount."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict
from siyu.promotions.coupons.checkout import use_on_place
from siyu.promotions.coupons.models import CouponGrant, GrantStatus
from siyu.promotions.coupons.services import coupon_claim
from siyu.promotions.models import PromotionUse
from siyu.promotions.results import promotion_results

from ...factories import ShippingTemplateFactory, make_product
from ...orders.helpers import pay, place
from .steps import make_coupon


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", price=6000, stock=50)


def _two_grants(shop, owner, shopper):
    """Two grants of one coupon: `soon` ends in 2 days, `later` in 20."""
    coupon = make_coupon(shop, owner, per_customer=2)
    soon = coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    later = coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    now = timezone.now()
    CouponGrant.objects.filter(pk=soon.pk).update(valid_until=now + timedelta(days=2))
    CouponGrant.objects.filter(pk=later.pk).update(valid_until=now + timedelta(days=20))
    return coupon, soon, later


def test_the_code_the_shopper_picked_is_the_grant_used(shop, owner, shopper, address, tea):
    _c, soon, later = _two_grants(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2, options={"coupon": later.public_id})
    assert order.discount == 2000
    statuses = dict(CouponGrant.objects.values_list("public_id", "status"))
    assert statuses == {later.public_id: GrantStatus.USED, soon.public_id: GrantStatus.AVAILABLE}
    assert CouponGrant.objects.get(pk=later.pk).order_id == order.pk


def test_without_a_choice_the_best_grant_is_used_the_one_ending_soonest(shop, owner, shopper, address, tea):
    _c, soon, later = _two_grants(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    assert CouponGrant.objects.get(pk=soon.pk).order_id == order.pk
    assert CouponGrant.objects.get(pk=later.pk).status == GrantStatus.AVAILABLE


def test_the_best_of_two_coupons_is_the_grant_used(shop, owner, shopper, address, tea):
    small = make_coupon(shop, owner, name="减10", amount_off=1000, min_spend=5000)
    big = make_coupon(shop, owner, name="减20", amount_off=2000, min_spend=10000)
    for coupon in (small, big):
        coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    order = place(shop, shopper, address, tea, quantity=2)
    used = CouponGrant.objects.get(status=GrantStatus.USED)
    assert (used.coupon_id, used.order_id, order.discount) == (big.pk, order.pk, 2000)


def test_the_picked_grant_taken_meanwhile_refuses_rather_than_using_another(shop, owner, shopper, address, tea):
    from siyu.orders import checkout

    _c, soon, later = _two_grants(shop, owner, shopper)
    real = checkout.order_quote

    def quote_then_lose_it(**kwargs):
        quote = real(**kwargs)
        CouponGrant.objects.filter(pk=later.pk).update(status=GrantStatus.USED)
        return quote

    checkout.order_quote = quote_then_lose_it
    try:
        with pytest.raises(Conflict) as err:
            place(shop, shopper, address, tea, quantity=2, options={"coupon": later.public_id})
    finally:
        checkout.order_quote = real
    assert err.value.code == "coupon_used"
    assert CouponGrant.objects.get(pk=soon.pk).status == GrantStatus.AVAILABLE


def test_a_subscriber_run_without_a_pick_takes_the_earliest_ending_grant(shop, owner, shopper, address, tea):
    coupon, soon, _later = _two_grants(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=1, options={"coupon": "none"})
    event = type(
        "E",
        (),
        {
            "payload": {"order": order.pk, "shopper": shopper.pk, "promotions": [f"coupon:{coupon.public_id}"]},
            "shop_id": shop.pk,
            "pk": 0,
            "topic": "order.placed",
        },
    )()
    use_on_place(event)
    assert CouponGrant.objects.get(pk=soon.pk).order_id == order.pk


def test_free_shipping_coupon_records_the_postage_it_waived(
    shop, owner, shopper, address, django_capture_on_commit_callbacks
):
    template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=None)
    item = make_product(shop, price=3000, shipping_template=template)
    coupon = make_coupon(shop, owner, kind="free_shipping", name="包邮券", min_spend=0)
    coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    order = place(shop, shopper, address, item)
    assert (order.shipping_fee, order.discount, order.total) == (0, 0, 3000)
    assert PromotionUse.objects.get(order=order).discount == 800
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    result = promotion_results(shop=shop, kind="coupon", ref=coupon.public_id)
    assert (result.orders_paid, result.discount, result.revenue) == (1, 800, 3000)
