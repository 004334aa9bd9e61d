"""会员价: a price per SKU per membership level.

How it combines with the level's percentage discount (Youzan's rule): a member price replaces the
percentage for that SKU. The checkout line pricer offers the member price (kind "member_price",
lowest offer wins against a limited-time price); the membership adjuster then leaves lines priced
by "member_price" out of its percentage (siyu.customers.membership). Free shipping and points are
unaffected.
"""

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from siyu.catalog.models import Product, Sku
from siyu.core.audit import audit_record
from siyu.core.errors import NotFound
from siyu.core.permissions import Actor, require
from siyu.customers.models import MemberLevel
from siyu.orders.pricing import LinePrice, PricingLine
from siyu.shops.models import Shop

from .flags import discount_flags_forget
from .models import MemberPrice
from .rules import MANAGE, clean_fen, floor_check, refuse

KIND = "member_price"


def member_prices_of_product(*, shop: Shop, product: Product) -> QuerySet[MemberPrice]:
    return MemberPrice.objects.filter(shop=shop, product=product).order_by("sku_id", "level__min_spend")


def product_for_prices(*, shop: Shop, public_id: str) -> Product:
    product = Product.objects.filter(shop=shop, public_id=str(public_id)).first()
    if product is None:
        raise NotFound(detail={"product": str(public_id)})
    return product


def member_prices_set(*, actor: Actor, shop: Shop, product: Product, prices, override_reason: str = "") -> int:
    """Replace a product's member-price matrix. `prices`: [{sku: id, level: level id, price: fen or
    yuan text}]; a cell left out (or with an empty price) has no member price. A price must be below
    the SKU's own and, without an audited override reason, not below its minimum advertised price.
    Permission promotions.manage. Returns how many prices the product now has."""
    require(actor, MANAGE, shop_id=shop.pk)
    if not isinstance(prices, list | tuple) or len(prices) > 2000:
        refuse({"prices": "a list of at most 2000 cells"})
    skus = {s.pk: s for s in Sku.objects.filter(shop=shop, product=product)}
    levels = set(MemberLevel.objects.filter(shop=shop).values_list("pk", flat=True))
    errors: dict[str, str] = {}
    clashes: dict[str, str] = {}
    cells: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], str] = {}  # the input position of each cell, for its error
    for n, cell in enumerate(prices):
        if not isinstance(cell, dict):
            errors[f"prices.{n}"] = "a SKU, a level and a price"
            continue
        try:
            sku_id, level_id = int(str(cell.get("sku"))), int(str(cell.get("level")))
        except (TypeError, ValueError):
            errors[f"prices.{n}"] = "a SKU id and a level id"
            continue
        if sku_id not in skus or level_id not in levels:
            raise NotFound(detail={f"prices.{n}": "not found", "sku": sku_id, "level": level_id})
        if cell.get("price") in (None, ""):
            continue
        price = clean_fen(cell.get("price"), field=f"prices.{n}.price", errors=errors)
        if f"prices.{n}.price" not in errors and price >= skus[sku_id].price:
            clashes[f"prices.{n}.price"] = "below the item's price"
        cells[(sku_id, level_id)] = price
        where[(sku_id, level_id)] = f"prices.{n}.price"
    refuse(errors, clashes)
    with transaction.atomic():
        for key, price in sorted(cells.items()):
            floor_check(sku=skus[key[0]], price=price, override_reason=override_reason, actor=actor, field=where[key])
        MemberPrice.objects.filter(shop=shop, product=product).delete()
        MemberPrice.objects.bulk_create(
            [
                MemberPrice(shop=shop, product=product, sku_id=sku_id, level_id=level_id, price=price)
                for (sku_id, level_id), price in sorted(cells.items())
            ]
        )
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="member_prices.set",
            target=product,
            data={"cells": [[s, lv, p] for (s, lv), p in sorted(cells.items())]},
        )
        discount_flags_forget(shop_id=shop.pk)
    return len(cells)


def member_offers(*, shop: Shop, level_id: int, lines: list[PricingLine]) -> dict[int, LinePrice]:
    """The member price of each line at the shopper's level: one query."""
    rows = MemberPrice.objects.filter(shop=shop, level_id=level_id, sku_id__in=[ln.sku_id for ln in lines])
    return {
        row.sku_id: LinePrice(unit_price=row.price, kind=KIND, label=gettext("Member price"), ref=str(row.level_id))
        for row in rows
    }
