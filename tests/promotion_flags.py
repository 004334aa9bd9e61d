"""The storefront's promotion panels read one cached per-shop flag per promotion kind (see
siyu/storefront/panels.py); with the cache cleared before every test, the first page of a test pays
one query per kind to fill them. Budget tests that mean the steady state warm them first."""

from siyu.community.content.flags import content_in_use
from siyu.community.groups.flags import groups_on
from siyu.community.reviews.flags import review_flags
from siyu.community.trials.flags import trial_flags
from siyu.orders.pickup.flags import pickup_flags
from siyu.promotions.coupons.services import shop_has_public_coupons
from siyu.promotions.discounts.flags import discount_flags
from siyu.promotions.flashsales.selectors import flash_sales_on
from siyu.promotions.groupbuys.campaigns import shop_runs_group_buys


def promotion_flags_warm(shop_id: int) -> int:
    """Fill every kind's flag; returns how many kinds there are (the most a cold cache costs)."""
    shop_has_public_coupons(shop_id=shop_id)
    discount_flags(shop_id=shop_id)
    flash_sales_on(shop_id=shop_id)
    shop_runs_group_buys(shop_id=shop_id)
    review_flags(shop_id=shop_id)
    pickup_flags(shop_id=shop_id)
    trial_flags(shop_id=shop_id)
    content_in_use(shop_id=shop_id)
    groups_on(shop_id=shop_id)
    return 9
