"""Reads for the console, the API and the storefront panels. Scoped by shop; a shop running no
discount of a kind pays no query for it on shopper pages (see flags.py)."""

from dataclasses import dataclass, field
from datetime import datetime

from siyu.catalog.models import Product, Sku
from siyu.customers.membership import member_level_of
from siyu.customers.models import MemberLevel
from siyu.orders.pricing import PricingLine
from siyu.shops.models import Shop

from .flags import discount_flags
from .limited import item_price, live_items
from .models import MemberPrice, ThresholdActivity
from .thresholds import threshold_reached, thresholds_live, tier_text


@dataclass(frozen=True)
class SkuDiscount:
    sku_id: int
    price: int  # fen at this price
    sku_price: int  # the SKU's own price, struck through
    name: str
    ends_at: datetime | None = None
    per_customer_limit: int = 0
    ref: str = ""


@dataclass
class ProductDiscounts:
    limited: list[SkuDiscount] = field(default_factory=list)
    member: list[SkuDiscount] = field(default_factory=list)
    level_name: str = ""
    thresholds: list[tuple[ThresholdActivity, list[str]]] = field(default_factory=list)  # (activity, tier texts)

    @property
    def ends_at(self) -> datetime | None:
        return min((d.ends_at for d in self.limited if d.ends_at), default=None)

    def __bool__(self) -> bool:
        return bool(self.limited or self.member or self.thresholds)


def product_discounts(*, shop: Shop, product: Product, skus: list[Sku], shopper=None) -> ProductDiscounts:
    """What a product's page says about discounts: limited-time prices of its SKUs, the shopper's
    member prices, and the running 满减 activities it counts toward. No query when the shop runs
    none (cached flags); otherwise one per kind it runs (two for member prices)."""
    found = ProductDiscounts()
    flags = discount_flags(shop_id=shop.pk)
    price_of = {s.pk: s.price for s in skus}
    if flags.limited and skus:
        for item in live_items(shop=shop, sku_ids=price_of):
            found.limited.append(
                SkuDiscount(
                    sku_id=item.sku_id,
                    price=item_price(item, price_of[item.sku_id]),
                    sku_price=price_of[item.sku_id],
                    name=item.discount.name,
                    ends_at=item.discount.ends_at,
                    per_customer_limit=item.discount.per_customer_limit,
                    ref=item.discount.public_id,
                )
            )
    if flags.member and shopper is not None and skus:
        level = member_level_of(shop=shop, shopper=shopper)
        if level is not None:
            found.level_name = level.name
            for row in MemberPrice.objects.filter(shop=shop, level=level, sku_id__in=list(price_of)):
                found.member.append(
                    SkuDiscount(sku_id=row.sku_id, price=row.price, sku_price=price_of[row.sku_id], name=level.name)
                )
    if flags.threshold:
        probe = [PricingLine(0, product.pk, product.category_id, 0, 1, 1)]
        for activity in thresholds_live(shop=shop):
            if threshold_reached(activity, probe).eligible:  # the product counts toward it
                found.thresholds.append((activity, [tier_text(activity, t) for t in activity.tiers]))
    return found


def running_thresholds(*, shop: Shop) -> list[ThresholdActivity]:
    """The running activities, for the checkout panel: none (and no query) when the shop has none."""
    return thresholds_live(shop=shop) if discount_flags(shop_id=shop.pk).threshold else []


def product_names(*, shop: Shop, ids: list[int]) -> dict[int, tuple[str, str]]:
    """{pk: (public id, name)} of the given products: one query."""
    return {
        pk: (public, name)
        for pk, public, name in Product.objects.filter(shop=shop, pk__in=ids).values_list("pk", "public_id", "name")
    }


@dataclass
class PriceMatrix:
    product: Product
    skus: list[Sku]
    levels: list[MemberLevel]
    prices: dict[tuple[int, int], int]  # (sku id, level id) -> fen

    def rows(self) -> list[dict]:
        return [
            {"sku": sku, "cells": [(level, self.prices.get((sku.pk, level.pk))) for level in self.levels]}
            for sku in self.skus
        ]


def member_price_matrix(*, shop: Shop, product: Product) -> PriceMatrix:
    """A product's SKUs × the shop's levels with the prices set: three queries."""
    skus = list(Sku.objects.filter(shop=shop, product=product, is_active=True).order_by("id"))
    levels = list(MemberLevel.objects.filter(shop=shop).order_by("min_spend"))
    prices = {
        (sku_id, level_id): price
        for sku_id, level_id, price in MemberPrice.objects.filter(shop=shop, product=product).values_list(
            "sku_id", "level_id", "price"
        )
    }
    return PriceMatrix(product=product, skus=skus, levels=levels, prices=prices)
