"""Membership levels by spend, their benefits at checkout, and the shopper's membership page."""

import pytest
from django.urls import reverse

from siyu.accounts.roles import FINANCE
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.customers.membership import (
    customers_level_refresh,
    level_delete,
    level_save,
    member_level_of,
    member_overview,
)
from siyu.customers.models import CrmSettings, Customer, CustomerEvent, MemberLevel, PointsEntry
from siyu.customers.stats import customer_for_shopper
from siyu.orders.checkout import order_quote

from ..factories import ShippingTemplateFactory, ShopFactory, make_product, make_shopper, make_staff, sign_in_shopper
from ..orders.helpers import pay, place
from .member_steps import deliver_events


@pytest.fixture
def tea(shop):
    product = make_product(shop, name="龙井", price=5000, stock=50)
    product.shipping_template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=None)
    product.save()
    return product


def _levels(owner, shop):
    silver = level_save(actor=owner, shop=shop, data={"name": "银卡", "min_spend": "50", "discount_bp": 500})
    gold = level_save(
        actor=owner, shop=shop, data={"name": "金卡", "min_spend": 50000, "discount_bp": 1000, "free_shipping": "on"}
    )
    return silver, gold


def test_level_rules_and_permissions(shop, owner):
    finance = make_staff(shop, role=FINANCE)
    with pytest.raises(PermissionDenied):
        level_save(actor=finance, shop=shop, data={"name": "银卡", "min_spend": 0})
    other_owner = make_staff(ShopFactory())
    with pytest.raises(PermissionDenied):
        level_save(actor=other_owner, shop=shop, data={"name": "银卡", "min_spend": 0})
    with pytest.raises(InvalidInput) as exc:
        level_save(actor=owner, shop=shop, data={"name": "", "min_spend": "1.234", "discount_bp": 5001})
    assert set(exc.value.detail) == {"name", "min_spend", "discount_bp"}
    level = level_save(actor=owner, shop=shop, data={"name": "银卡", "min_spend": "99.50", "discount_bp": "5000"})
    assert (level.min_spend, level.discount_bp, level.free_shipping) == (9950, 5000, False)
    with pytest.raises(Conflict) as exc:
        level_save(actor=owner, shop=shop, data={"name": "重复", "min_spend": 9950})
    assert exc.value.code == "level_threshold_taken"
    with pytest.raises(NotFound):
        level_save(actor=owner, shop=shop, level_id=level.pk + 100, data={"name": "x", "min_spend": 1})
    with pytest.raises(NotFound):
        level_delete(actor=other_owner, shop=other_owner.shop, level_id=level.pk)
    assert AuditEntry.objects.filter(action="level.save").count() == 1


def test_customers_move_between_levels_when_levels_change(shop, owner):
    rich, poor = make_shopper(), make_shopper()
    for shopper, spent in ((rich, 60000), (poor, 4000)):
        Customer.objects.filter(pk=customer_for_shopper(shop=shop, shopper=shopper).pk).update(total_spent=spent)
    silver, gold = _levels(owner, shop)
    levels = dict(Customer.objects.values_list("shopper_id", "level_id"))
    assert levels == {rich.pk: gold.pk, poor.pk: None}
    level_save(actor=owner, shop=shop, level_id=silver.pk, data={"name": "银卡", "min_spend": 0, "discount_bp": 500})
    assert dict(Customer.objects.values_list("shopper_id", "level_id")) == {rich.pk: gold.pk, poor.pk: silver.pk}
    level_delete(actor=owner, shop=shop, level_id=gold.pk)
    assert set(Customer.objects.values_list("level_id", flat=True)) == {silver.pk}
    MemberLevel.objects.all().delete()
    assert customers_level_refresh(shop=shop) == 2
    assert set(Customer.objects.values_list("level_id", flat=True)) == {None}


def test_a_paid_order_lifts_the_level_through_the_event(shop, owner, shopper, address, tea):
    silver, _gold = _levels(owner, shop)
    order = place(shop, shopper, address, tea)
    pay(order)
    deliver_events()
    customer = Customer.objects.get(shopper=shopper)
    assert customer.total_spent == 5800 and customer.level_id == silver.pk
    assert CustomerEvent.objects.filter(customer=customer, kind="level_changed", data__to=silver.pk).exists()


def test_checkout_applies_the_member_discount_and_free_shipping(shop, owner, shopper, address, tea):
    silver, gold = _levels(owner, shop)
    items = [{"sku": tea.skus.get().pk, "quantity": 3}]
    plain = order_quote(shop=shop, items=items, shopper=make_shopper())
    assert (plain.subtotal, plain.shipping_fee, plain.discount, plain.total) == (15000, 800, 0, 15800)
    Customer.objects.filter(pk=customer_for_shopper(shop=shop, shopper=shopper).pk).update(total_spent=20000)
    quote = order_quote(shop=shop, items=items, shopper=shopper)
    assert (quote.discount, quote.shipping_fee, quote.total) == (750, 800, 15050)
    Customer.objects.filter(shopper=shopper).update(total_spent=50000)
    order = place(shop, shopper, address, tea, quantity=3)
    assert (order.subtotal, order.discount, order.shipping_fee, order.total) == (15000, 1500, 0, 13500)
    assert order.adjustments == [{"kind": "member_discount", "label": order.adjustments[0]["label"], "amount": 1500}]
    assert member_level_of(shop=shop, shopper=shopper) == gold


def test_discount_rounds_down_to_the_fen(shop, owner, shopper):
    level_save(actor=owner, shop=shop, data={"name": "银卡", "min_spend": 0, "discount_bp": 333})
    odd = make_product(shop, price=1999)
    quote = order_quote(shop=shop, items=[{"sku": odd.skus.get().pk, "quantity": 1}], shopper=shopper)
    assert quote.discount == 66  # 19.99 × 3.33% = 0.6656…


def test_points_pay_whole_yuan_capped_after_the_member_discount(shop, owner, shopper, address, tea):
    level_save(actor=owner, shop=shop, data={"name": "银卡", "min_spend": 0, "discount_bp": 1000})
    CrmSettings.objects.create(shop=shop, points_per_yuan_redeemed=50, max_redeem_bp=2000)
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    PointsEntry.objects.create(shop=shop, customer=customer, delta=100_000, reason="adjust")
    items = [{"sku": tea.skus.get().pk, "quantity": 1}]
    small = order_quote(shop=shop, items=items, shopper=shopper, options={"points": 149})
    assert (small.discount, small.points_used) == (500 + 200, 100)  # 149 points buy 2 yuan, using 100
    # the cap: 20% of 45.00 (after the 10% member discount) = 9.00 yuan, 450 points
    order = place(shop, shopper, address, tea, options={"points": 5000})
    assert (order.subtotal, order.discount, order.points_used) == (5000, 500 + 900, 450)
    assert order.total == 5000 - 1400 + order.shipping_fee
    assert PointsEntry.objects.get(order_id=order.pk).delta == -450
    for bad in ("-1", "abc", "1.5", True):
        with pytest.raises(InvalidInput):
            order_quote(shop=shop, items=items, shopper=shopper, options={"points": bad})
    with pytest.raises(Conflict):
        order_quote(shop=shop, items=items, shopper=shopper, options={"points": 100_000})


def test_member_page_shows_level_points_and_consents_in_fixed_queries(
    client, shop, owner, shopper, django_assert_num_queries
):
    silver, gold = _levels(owner, shop)
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    Customer.objects.filter(pk=customer.pk).update(total_spent=20000)
    for n in range(30):
        PointsEntry.objects.create(shop=shop, customer=customer, delta=10 + n, reason="earn")
    # someone else's points in the same shop, and the shopper's own in another shop: never shown
    PointsEntry.objects.create(
        shop=shop, customer=customer_for_shopper(shop=shop, shopper=make_shopper()), delta=7777, reason="adjust"
    )
    other = ShopFactory()
    PointsEntry.objects.create(
        shop=other, customer=customer_for_shopper(shop=other, shopper=shopper), delta=8888, reason="adjust"
    )
    sign_in_shopper(client, shopper)
    url = reverse("storefront:member")
    with django_assert_num_queries(6):  # shop, shopper, customer + balance, levels, history, points rules
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "银卡" in page and "金卡" in page and str(sum(10 + n for n in range(30))) in page
    assert "7777" not in page and "8888" not in page
    assert "300.00" in page  # still to spend for gold
    overview = member_overview(shop=shop, shopper=shopper)
    assert (overview.level, overview.next_level, overview.to_next) == (silver, gold, 30000)


def test_member_page_for_a_new_shopper_writes_nothing(client, shop, shopper, django_assert_num_queries):
    sign_in_shopper(client, shopper)
    with django_assert_num_queries(5):  # shop, shopper, customer, levels, points rules
        response = client.get(reverse("storefront:member"))
    assert response.status_code == 200 and not Customer.objects.exists()


def test_member_page_needs_sign_in(client, shop):
    response = client.get(reverse("storefront:member"))
    assert response.status_code == 302 and reverse("storefront:login") in response["Location"]
