"""Lists the console and API show that selectors.py does not offer (yet): commission rules and
price floors. Read-only and scoped by shop; fold into selectors.py when convenient."""

from django.db.models import F, QuerySet

from siyu.shops.models import Shop

from .models import CommissionRule, PriceFloor


def commission_rules_of(*, shop: Shop) -> QuerySet[CommissionRule]:
    """Product rules first, then category rules, each by tier. One query."""
    return (
        CommissionRule.objects.filter(shop=shop)
        .select_related("product", "category")
        .order_by(F("product_id").asc(nulls_last=True), "category_id", "tier", "pk")
    )


def price_floors_of(*, shop: Shop) -> QuerySet[PriceFloor]:
    """Every floor with its SKU and product. One query."""
    return PriceFloor.objects.filter(shop=shop).select_related("sku__product").order_by("sku__product__name", "sku_id")
