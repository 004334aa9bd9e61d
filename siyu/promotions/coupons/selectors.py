"""Reads for the coupon pages: the centre, a shopper's coupons, the console list. One query each."""

from typing import NamedTuple

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.accounts.models import Shopper
from siyu.catalog.models import Category, Product
from siyu.customers.models import Segment
from siyu.shops.models import Shop

from .models import Coupon, CouponGrant, CouponPush, CouponScope, CouponStatus, GrantStatus
from .services import CLAIM_SOURCES, shop_has_public_coupons

MY_TABS = ("available", "used", "expired")


def centre_coupons(*, shop: Shop, shopper: Shopper | None, limit: int = 50) -> list[Coupon]:
    """Running public coupons, each with `mine` (how many the shopper has claimed) for the button."""
    now = timezone.now()
    qs = Coupon.objects.filter(shop=shop, status=CouponStatus.ACTIVE, public=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )
    if shopper is not None:
        held = (
            CouponGrant.objects.filter(coupon=OuterRef("pk"), shopper=shopper, source__in=CLAIM_SOURCES)
            .order_by()
            .values("coupon")
            .annotate(n=Count("pk"))
            .values("n")
        )
        qs = qs.annotate(mine=Coalesce(Subquery(held), Value(0)))
    else:
        qs = qs.annotate(mine=Value(0))
    return list(qs.order_by("-id")[:limit])


def product_coupons(*, shop: Shop, product: Product, limit: int = 5) -> list[Coupon]:
    """Claimable public coupons that this product can use: no query when the shop runs none."""
    if not shop_has_public_coupons(shop_id=shop.pk):
        return []
    now = timezone.now()
    found = []
    for coupon in Coupon.objects.filter(shop=shop, status=CouponStatus.ACTIVE, public=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )[:50]:
        if product.pk in (coupon.excluded_product_ids or []):
            continue
        if coupon.scope == CouponScope.PRODUCTS and product.pk not in (coupon.product_ids or []):
            continue
        if coupon.scope == CouponScope.CATEGORIES and product.category_id not in (coupon.category_ids or []):
            continue
        if coupon.total is not None and coupon.claimed >= coupon.total:
            continue
        found.append(coupon)
    return found[:limit]


def grants_of_shopper(*, shop: Shop, shopper: Shopper, tab: str = "available") -> QuerySet[CouponGrant]:
    now = timezone.now()
    qs = CouponGrant.objects.filter(shop=shop, shopper=shopper).select_related("coupon")
    if tab == "used":
        return qs.filter(status=GrantStatus.USED).order_by("-used_at", "-id")
    if tab == "expired":
        return qs.filter(
            Q(status__in=[GrantStatus.EXPIRED, GrantStatus.VOID])
            | Q(status=GrantStatus.AVAILABLE, valid_until__lte=now)
        ).order_by("-valid_until", "-id")
    return qs.filter(status=GrantStatus.AVAILABLE, valid_until__gt=now).order_by("valid_until", "id")


def coupons_of_shop(*, shop: Shop, status: str = "") -> QuerySet[Coupon]:
    qs = Coupon.objects.filter(shop=shop)
    if status in CouponStatus.values:
        qs = qs.filter(status=status)
    return qs.annotate(
        used=Count("grants", filter=Q(grants__status=GrantStatus.USED)),
    ).order_by("-id")


def pushes_of_coupon(*, coupon: Coupon, limit: int = 20) -> list[CouponPush]:
    return list(CouponPush.objects.filter(coupon=coupon).order_by("-id")[:limit])


def coupons_for_staff(*, actor, shop: Shop, status: str = "") -> QuerySet[Coupon]:
    from siyu.core.permissions import require

    require(actor, "promotions.view", shop_id=shop.pk)
    return coupons_of_shop(shop=shop, status=status)


def coupon_for_staff(*, actor, shop: Shop, public_id: str) -> Coupon:
    from siyu.core.permissions import require

    from .services import coupon_of_shop

    require(actor, "promotions.view", shop_id=shop.pk)
    return coupon_of_shop(shop=shop, public_id=public_id)


def grants_of_coupon(*, coupon: Coupon) -> QuerySet[CouponGrant]:
    """Who holds the coupon, newest first, with the shopper and the order that used it (one query a page)."""
    return CouponGrant.objects.filter(coupon=coupon).select_related("shopper", "order").order_by("-id")


def push_segments(*, shop: Shop, limit: int = 200) -> list[Segment]:
    """The saved segments a coupon can be pushed to."""
    return list(Segment.objects.filter(shop=shop).order_by("name")[:limit])


class ScopeChoices(NamedTuple):
    categories: list[Category]
    products: list[Product]


MAX_SCOPE_CHOICES = 500


def scope_choices(*, shop: Shop) -> ScopeChoices:
    """The categories and products a coupon's scope can name (two queries; the newest products first)."""
    return ScopeChoices(
        categories=list(Category.objects.filter(shop=shop).order_by("position", "id")[:MAX_SCOPE_CHOICES]),
        products=list(Product.objects.filter(shop=shop).only("pk", "name").order_by("-id")[:MAX_SCOPE_CHOICES]),
    )
