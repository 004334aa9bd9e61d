"""Shared steps for the coupon tests."""

from datetime import timedelta

from django.utils import timezone

from siyu.promotions.coupons.services import coupon_activate, coupon_claim, coupon_create


def make_coupon(shop, owner, *, active: bool = True, **data):
    data.setdefault("name", "满100减20")
    data.setdefault("kind", "amount_off")
    data.setdefault("amount_off", 2000)
    data.setdefault("min_spend", 10000)
    if "valid_days" not in data:
        data.setdefault("valid_until", timezone.now() + timedelta(days=30))
    coupon = coupon_create(actor=owner, shop=shop, data=data)
    return coupon_activate(actor=owner, coupon=coupon) if active else coupon


def claimed(shop, owner, shopper, **data):
    coupon = make_coupon(shop, owner, **data)
    return coupon, coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
