"""Coupons at checkout: the best one picked, scope, caps, stacking, floors; used with the order and
given back on cancel or a full refund, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.catalog.models import Category
from siyu.core.errors import Conflict, InvalidInput
from siyu.distribution.models import PriceFloor
from siyu.orders import pricing
from siyu.orders.checkout import order_quote
from siyu.orders.lifecycle import order_cancel
from siyu.orders.models import Order, OrderStatus
from siyu.orders.pricing import Adjustment, LinePrice
from siyu.payments.services import payment_notify
from siyu.promotions.coupons.checkout import coupon_checkout_adjustments, retake_on_late_payment
from siyu.promotions.coupons.models import CouponGrant, GrantStatus
from siyu.promotions.coupons.services import coupon_claim
from siyu.promotions.models import PromotionUse
from siyu.promotions.results import promotion_results

from ...factories import make_product
from ...orders.helpers import pay, place, sandbox_notice
from .steps import claimed, make_coupon


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", price=6000, stock=50)


def _quote(shop, shopper, product, quantity=1, **options):
    sku = product.skus.get()
    return order_quote(shop=shop, shopper=shopper, items=[{"sku": sku.pk, "quantity": quantity}], options=options)


def test_best_coupon_is_picked_and_none_or_a_code_can_be_chosen(shop, owner, shopper, tea):
    _c, small = claimed(shop, owner, shopper, name="减10", amount_off=1000, min_spend=5000)
    _c, big = claimed(shop, owner, shopper, name="减20", amount_off=2000, min_spend=10000)
    quote = _quote(shop, shopper, tea, quantity=2)  # 120 yuan
    assert [(a.kind, a.amount, a.label) for a in quote.adjustments] == [("coupon", 2000, "减20")]
    assert _quote(shop, shopper, tea, quantity=1).adjustments[0].amount == 1000  # 60 yuan: only the 50 threshold
    assert _quote(shop, shopper, tea, quantity=2, coupon="none").adjustments == []
    assert _quote(shop, shopper, tea, quantity=2, coupon=small.public_id).adjustments[0].amount == 1000
    with pytest.raises(InvalidInput) as err:
        _quote(shop, shopper, tea, quantity=1, coupon=big.public_id)  # below its threshold
    assert err.value.code == "coupon_unusable"
    with pytest.raises(InvalidInput):
        _quote(shop, shopper, tea, quantity=1, coupon="not-mine")


def test_scope_excluded_products_and_amount_never_above_eligible_items(shop, owner, shopper, tea):
    tea_cat = Category.objects.create(shop=shop, name="茶")
    cup = make_product(shop, name="杯子", price=500, stock=50, category=tea_cat)
    claimed(shop, owner, shopper, kind="no_threshold", amount_off=3000, scope="categories", category_ids=[tea_cat.pk])
    sku_cup, sku_tea = cup.skus.get(), tea.skus.get()
    quote = order_quote(
        shop=shop, shopper=shopper, items=[{"sku": sku_cup.pk, "quantity": 2}, {"sku": sku_tea.pk, "quantity": 1}]
    )
    assert quote.adjustments[0].amount == 1000  # only the cups (2 × 5 yuan) are eligible
    claimed(shop, owner, shopper, kind="no_threshold", amount_off=500, excluded_product_ids=[tea.pk], name="x")
    assert _quote(shop, shopper, tea).adjustments == []


def test_percent_off_with_cap_and_free_shipping(shop, owner, shopper, tea):
    claimed(shop, owner, shopper, kind="percent_off", percent_off_bp=1500, max_off=1200, min_spend=0)
    assert _quote(shop, shopper, tea).adjustments[0].amount == 900  # 15% of 60
    assert _quote(shop, shopper, tea, quantity=3).adjustments[0].amount == 1200  # capped


def test_free_shipping_coupon_waives_postage(shop, owner, shopper):
    from ...factories import ShippingTemplateFactory

    template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=None)
    item = make_product(shop, price=3000, shipping_template=template)
    assert _quote(shop, shopper, item).shipping_fee == 800
    claimed(shop, owner, shopper, kind="free_shipping", name="包邮券", min_spend=0)
    quote = _quote(shop, shopper, item)
    assert quote.shipping_fee == 0 and quote.adjustments[0].free_shipping
    assert quote.promotions == [f"coupon:{quote.adjustments[0].ref}"]


def test_exclusive_threshold_discount_means_no_coupon(shop, owner, shopper, tea):
    _c, grant = claimed(shop, owner, shopper, kind="no_threshold", amount_off=500)
    lines = [pricing.PricingLine(tea.skus.get().pk, tea.pk, None, 6000, 6000, 1)]
    prior = [Adjustment(kind="threshold", label="满50减10", amount=1000, ref="t1", exclusive=True)]
    kw = dict(shop=shop, shopper=shopper, subtotal=6000, shipping_fee=0, lines=lines, prior=prior, read={})
    assert coupon_checkout_adjustments(options={}, **kw) == []
    with pytest.raises(InvalidInput) as err:
        coupon_checkout_adjustments(options={"coupon": grant.public_id}, **kw)
    assert "满50减10" in str(err.value.message)
    kw["prior"] = [Adjustment(kind="threshold", label="满50减10", amount=1000, ref="t1")]
    assert coupon_checkout_adjustments(options={}, **kw)[0].amount == 500


def test_lines_priced_by_a_chosen_promotion_are_not_eligible(shop, owner, shopper, tea, monkeypatch):
    def flash(*, lines, options, **_):
        return {ln.sku_id: LinePrice(4000, "flash_sale", "秒杀", "f1", exclusive=True) for ln in lines}

    monkeypatch.setattr(pricing, "_pricers", [pricing._Hook(flash, {}, 50)])
    claimed(shop, owner, shopper, kind="no_threshold", amount_off=500)
    assert _quote(shop, shopper, tea).adjustments == []


def test_no_query_when_the_shopper_holds_no_coupon(db, shop, shopper, django_assert_num_queries):
    with django_assert_num_queries(0):
        found = coupon_checkout_adjustments(
            shop=shop,
            shopper=shopper,
            subtotal=100,
            shipping_fee=0,
            options={},
            lines=[],
            prior=[],
            read={"has": False},
        )
    assert found == []


def test_price_floor_caps_the_coupon(shop, owner, shopper, tea):
    PriceFloor.objects.create(shop=shop, sku=tea.skus.get(), min_price=5500)
    claimed(shop, owner, shopper, kind="no_threshold", amount_off=2000)
    quote = _quote(shop, shopper, tea)
    assert quote.adjustments[0].amount == 500  # 60 − 55: the line may not net below its floor
    PriceFloor.objects.filter(sku__product=tea).update(min_price=6000)
    assert _quote(shop, shopper, tea).adjustments == []


def test_placing_uses_the_grant_and_records_the_use(shop, owner, shopper, address, tea):
    coupon, grant = claimed(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    grant.refresh_from_db()
    assert (grant.status, grant.order_id) == (GrantStatus.USED, order.pk)
    assert order.discount == 2000 and order.total == 10000
    assert order.adjustments == [{"kind": "coupon", "label": coupon.name, "amount": 2000, "ref": coupon.public_id}]
    assert PromotionUse.objects.get(order=order).discount == 2000
    again = place(shop, shopper, address, tea, quantity=2)
    assert again.discount == 0  # nothing left to pick
    with pytest.raises(InvalidInput):
        place(shop, shopper, address, tea, quantity=2, options={"coupon": grant.public_id})


def test_a_grant_taken_meanwhile_rolls_the_order_back(shop, owner, shopper, address, tea):
    _c, grant = claimed(shop, owner, shopper)
    from siyu.orders import checkout

    real = checkout.order_quote

    def quote_then_lose_it(**kwargs):
        quote = real(**kwargs)
        CouponGrant.objects.filter(pk=grant.pk).update(status=GrantStatus.USED)
        return quote

    checkout.order_quote = quote_then_lose_it
    try:
        with pytest.raises(Conflict) as err:
            place(shop, shopper, address, tea, quantity=2)
    finally:
        checkout.order_quote = real
    assert err.value.code == "coupon_used"
    assert not Order.objects.exists() and tea.skus.get().stock == 50


def test_cancel_returns_the_coupon_once(shop, owner, shopper, address, tea):
    _c, grant = claimed(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    order_cancel(order_id=order.pk, actor=shopper)
    grant.refresh_from_db()
    assert grant.status == GrantStatus.AVAILABLE and grant.returned_at is not None
    with pytest.raises(Conflict):
        order_cancel(order_id=order.pk, actor=shopper)
    assert CouponGrant.objects.filter(status=GrantStatus.AVAILABLE).count() == 1


def test_cancel_after_the_coupon_ended_does_not_return_it(shop, owner, shopper, address, tea):
    _c, grant = claimed(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    CouponGrant.objects.filter(pk=grant.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    order_cancel(order_id=order.pk, actor=shopper)
    assert CouponGrant.objects.get(pk=grant.pk).status == GrantStatus.USED


def test_cancel_then_late_payment_takes_the_coupon_again(
    shop, owner, shopper, address, tea, django_capture_on_commit_callbacks
):
    _c, grant = claimed(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    headers, body = sandbox_notice(order)  # the shopper started paying before the cancel
    order_cancel(order_id=order.pk, actor=shopper)
    with django_capture_on_commit_callbacks(execute=True):
        payment_notify(provider="sandbox", headers=headers, body=body)
    order.refresh_from_db()
    grant.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert (grant.status, grant.order_id) == (GrantStatus.USED, order.pk)


def test_late_payment_after_the_coupon_was_used_again_keeps_the_discount(shop, owner, shopper, address, tea):
    _c, grant = claimed(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    order_cancel(order_id=order.pk, actor=shopper)
    second = place(shop, shopper, address, tea, quantity=2)
    assert second.discount == 2000
    retake_on_late_payment(type("E", (), {"payload": {"order": order.pk}, "pk": 0, "topic": "order.paid"})())
    grant.refresh_from_db()
    assert grant.order_id == second.pk
    assert order.timeline.filter(action="coupon.kept").exists()


def test_full_refund_returns_the_coupon_partial_keeps_it(
    shop, owner, shopper, address, tea, django_capture_on_commit_callbacks
):
    from types import SimpleNamespace

    from ...distribution.promoter_steps import refund_line

    _c, grant = claimed(shop, owner, shopper)
    order = place(shop, shopper, address, tea, quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    w = SimpleNamespace(owner=owner, shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 1)
    assert CouponGrant.objects.get(pk=grant.pk).status == GrantStatus.USED
    order.refresh_from_db()
    line = order.lines.get()
    assert line.refunded_amount == 5000  # half of what was paid for the goods (120 − 20) / 2
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 1)
    order.refresh_from_db()
    assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount == 10000
    assert CouponGrant.objects.get(pk=grant.pk).status == GrantStatus.AVAILABLE
    result = promotion_results(shop=shop, kind="coupon", ref=_c.public_id)
    assert (result.orders_placed, result.orders_paid, result.revenue) == (1, 1, 0)


def test_grant_of_another_shopper_cannot_be_used(shop, owner, shopper, tea):
    from ...factories import make_shopper

    coupon = make_coupon(shop, owner)
    someone = make_shopper()
    theirs = coupon_claim(shop=shop, shopper=someone, public_id=coupon.public_id)
    with pytest.raises(InvalidInput):
        _quote(shop, shopper, tea, quantity=2, coupon=theirs.public_id)
