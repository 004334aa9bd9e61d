"""Coupon definitions and claims: validation, permissions, limits, totals, expiry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.promotions.coupons.models import Coupon, CouponGrant, GrantStatus
from siyu.promotions.coupons.services import (
    coupon_claim,
    coupon_create,
    coupon_end,
    coupon_update,
    grants_expire_due,
)

from ...factories import make_shopper, make_staff
from .steps import make_coupon


@pytest.mark.parametrize(
    "bad",
    [
        {"name": ""},
        {"kind": "free_money"},
        {"amount_off": 0},
        {"min_spend": 0},  # 满减 needs a threshold
        {"amount_off": "ten"},
        {"amount_off": True},
        {"valid_days": None, "valid_until": None},
        {"valid_until": "not a date"},
        {"total": 0},
        {"per_customer": 1000},
        {"scope": "products", "product_ids": []},
        {"excluded_product_ids": "x"},
        {"rule": "whenever"},
    ],
)
def test_bad_definitions_are_refused(shop, owner, bad):
    data = {"name": "券", "kind": "amount_off", "amount_off": 2000, "min_spend": 10000, "valid_days": 7, **bad}
    with pytest.raises(InvalidInput):
        coupon_create(actor=owner, shop=shop, data=data)


def test_products_of_another_shop_are_not_found(shop, owner):
    data = {"name": "券", "kind": "no_threshold", "amount_off": 500, "valid_days": 7}
    with pytest.raises(NotFound):
        coupon_create(actor=owner, shop=shop, data={**data, "scope": "products", "product_ids": [999999]})


def test_only_staff_of_the_shop_with_manage_may_define(shop, other_shop, owner):
    stranger = make_staff(other_shop)
    with pytest.raises(PermissionDenied):
        coupon_create(actor=stranger, shop=shop, data={"name": "券", "kind": "no_threshold", "amount_off": 500})
    with pytest.raises(PermissionDenied):
        coupon_create(actor=None, shop=shop, data={"name": "券", "kind": "no_threshold", "amount_off": 500})


def test_status_moves_through_the_table_with_audit(shop, owner):
    coupon = make_coupon(shop, owner, active=False)
    assert coupon.status == "draft"
    from siyu.promotions.coupons.services import coupon_activate

    coupon = coupon_activate(actor=owner, coupon=coupon)
    coupon = coupon_end(actor=owner, coupon=coupon)
    with pytest.raises(Conflict):
        coupon_activate(actor=owner, coupon=coupon)
    actions = list(AuditEntry.objects.filter(target_type="coupon").order_by("id").values_list("action", flat=True))
    assert actions == ["coupon.create", "coupon.active", "coupon.ended"]


def test_running_coupon_changes_only_safe_fields_and_never_total_below_claimed(shop, owner, shopper):
    coupon = make_coupon(shop, owner, total=5)
    coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    coupon_claim(shop=shop, shopper=make_shopper(), public_id=coupon.public_id)
    with pytest.raises(Conflict) as err:
        coupon_update(actor=owner, coupon=coupon, data={"amount_off": 3000})
    assert err.value.code == "coupon_running"
    with pytest.raises(Conflict) as err:
        coupon_update(actor=owner, coupon=coupon, data={"total": 1})
    assert err.value.code == "total_below_claimed"
    coupon = coupon_update(actor=owner, coupon=coupon, data={"total": 2, "name": "新名字"})
    assert (coupon.total, coupon.name, coupon.claimed) == (2, "新名字", 2)


def test_claim_limits_per_customer_and_total(shop, owner, shopper):
    coupon = make_coupon(shop, owner, total=3, per_customer=2)
    first = coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    second = coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    assert {first.slot, second.slot} == {"c1", "c2"}
    with pytest.raises(Conflict) as err:
        coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    assert err.value.code == "claim_limit"
    coupon_claim(shop=shop, shopper=make_shopper(), public_id=coupon.public_id)
    with pytest.raises(Conflict) as err:
        coupon_claim(shop=shop, shopper=make_shopper(), public_id=coupon.public_id)
    assert err.value.code == "coupons_gone"
    assert Coupon.objects.get(pk=coupon.pk).claimed == 3 == CouponGrant.objects.filter(coupon=coupon).count()


def test_link_only_coupon_is_claimed_through_its_link_with_the_sharer(shop, owner, shopper):
    coupon = make_coupon(shop, owner, public=False)
    with pytest.raises(NotFound):
        coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    grant = coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id, source="link", sharer_code="abc123")
    assert (grant.source, grant.sharer_code) == ("link", "abc123")


def test_other_shops_coupon_and_ended_coupon_cannot_be_claimed(shop, other_shop, owner, shopper):
    coupon = make_coupon(shop, owner)
    with pytest.raises(NotFound):
        coupon_claim(shop=other_shop, shopper=shopper, public_id=coupon.public_id)
    coupon_end(actor=owner, coupon=coupon)
    with pytest.raises(Conflict):
        coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)


def test_validity_fixed_dates_or_days_after_claim(shop, owner, shopper):
    days = make_coupon(shop, owner, valid_days=3)
    grant = coupon_claim(shop=shop, shopper=shopper, public_id=days.public_id)
    assert timedelta(days=3) - (grant.valid_until - grant.valid_from) < timedelta(seconds=1)
    until = timezone.now() + timedelta(days=10)
    fixed = make_coupon(shop, owner, valid_until=until)
    assert coupon_claim(shop=shop, shopper=shopper, public_id=fixed.public_id).valid_until == until


def test_end_can_void_unused_grants_and_expiry_marks_past_ones(shop, owner, shopper):
    coupon = make_coupon(shop, owner, valid_days=1)
    grant = coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    assert grants_expire_due(now=timezone.now() + timedelta(days=2)) == 1
    assert CouponGrant.objects.get(pk=grant.pk).status == GrantStatus.EXPIRED
    other = make_coupon(shop, owner)
    kept = coupon_claim(shop=shop, shopper=shopper, public_id=other.public_id)
    coupon_end(actor=owner, coupon=other, void_grants=True)
    assert CouponGrant.objects.get(pk=kept.pk).status == GrantStatus.VOID
