"""Pickup on the "me" page: a keeper (group leader, shop assistant) gets the link to verify codes.
No query for a shop without pickup points (cached per-shop flag, siyu.orders.pickup.flags)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.orders.pickup.flags import pickup_flags
from siyu.orders.pickup.selectors import pickup_points_kept_by

from .helpers import current_shopper


def my_links(request) -> list[tuple[str, str]]:
    if not pickup_flags(shop_id=request.shop.pk).has_points:
        return []
    shopper = current_shopper(request)
    if shopper is None or not pickup_points_kept_by(shop=request.shop, shopper=shopper):
        return []
    return [(_("Verify pickup codes"), reverse("storefront:pickup_keeper"))]
