"""PostgreSQL, real threads: claims and checkouts racing for the same coupon."""

import secrets

import pytest

from siyu.core.errors import DomainError
from siyu.orders.checkout import order_place
from siyu.promotions.coupons.models import Coupon, CouponGrant, GrantStatus
from siyu.promotions.coupons.services import coupon_claim

from ...concurrency import run_parallel
from ...factories import make_product, make_shopper
from .steps import claimed, make_coupon

pytestmark = pytest.mark.django_db(transaction=True)


def test_64_parallel_claims_of_a_total_1_coupon_make_one_grant(postgres_only, shop, owner):
    coupon = make_coupon(shop, owner, total=1)
    shoppers = [make_shopper() for _ in range(64)]
    results = run_parallel(
        lambda s: coupon_claim(shop=shop, shopper=s, public_id=coupon.public_id), [(s,) for s in shoppers], workers=32
    )
    assert sum(1 for r in results if isinstance(r, CouponGrant)) == 1
    assert all(r.code == "coupons_gone" for r in results if isinstance(r, DomainError))
    assert CouponGrant.objects.filter(coupon=coupon).count() == 1 == Coupon.objects.get(pk=coupon.pk).claimed


def test_parallel_claims_by_one_shopper_never_exceed_the_limit(postgres_only, shop, owner, shopper):
    coupon = make_coupon(shop, owner, per_customer=2)
    results = run_parallel(lambda: coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id), [()] * 16)
    made = CouponGrant.objects.filter(coupon=coupon, shopper=shopper).count()
    assert 1 <= made <= 2
    assert sum(1 for r in results if isinstance(r, CouponGrant)) == made == Coupon.objects.get(pk=coupon.pk).claimed


def test_8_parallel_checkouts_with_one_single_use_coupon_use_it_once(postgres_only, shop, owner, shopper, address):
    tea = make_product(shop, price=6000, stock=100)
    _coupon, grant = claimed(shop, owner, shopper)
    sku = tea.skus.get()

    def checkout():
        return order_place(
            shop=shop,
            shopper=shopper,
            items=[{"sku": sku.pk, "quantity": 2}],
            address_id=address.public_id,
            idempotency_key=secrets.token_hex(8),
            options={"coupon": grant.public_id},
        )

    results = run_parallel(checkout, [()] * 8)
    placed = [r for r in results if not isinstance(r, DomainError)]
    assert len(placed) == 1 and placed[0].discount == 2000
    grant.refresh_from_db()
    assert (grant.status, grant.order_id) == (GrantStatus.USED, placed[0].pk)
    sku.refresh_from_db()
    assert sku.stock == 98  # the refused checkouts rolled back their stock
