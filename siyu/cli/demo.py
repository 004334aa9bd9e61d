"""Build the demo shop through the same services the console and API use.

Going through the services (not straight into the tables) means the demo obeys every rule a
real seller's data does: permissions, SKU matrices, price ranges kept in step, resized images,
audit rows. The content lives in demo_data; this module only puts it in place.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from siyu.accounts.models import Shopper, StaffMember
from siyu.accounts.roles import OWNER
from siyu.accounts.services import address_create, staff_create
from siyu.catalog.models import Category, Product, ProductStatus, ShippingTemplate
from siyu.catalog.services import (
    category_create,
    featured_set,
    product_add_image,
    product_create,
    product_set_main_image,
    product_set_specs,
    product_set_status,
    shipping_template_save,
    sku_update_many,
)
from siyu.core.crypto import lookup_hash
from siyu.shops.models import Shop
from siyu.shops.services import shop_create, shop_set_image, shop_update_profile

from . import demo_data as data
from . import images

DEFAULT_SEED = 2024
MAX_FEATURED = 8


@dataclass
class DemoResult:
    shop: Shop
    owner: StaffMember
    products: list[Product] = field(default_factory=list)
    featured: list[Product] = field(default_factory=list)
    staff: list[StaffMember] = field(default_factory=list)
    shoppers: list[Shopper] = field(default_factory=list)
    orders: int = 0
    pool: dict = field(default_factory=dict)
    fission: dict = field(default_factory=dict)
    promotions: list[str] = field(default_factory=list)


def demo_items(limit: int | None = None) -> list[data.Item]:
    """The demo's products, taken round-robin across categories so a short list still covers them all."""
    by_top: dict[str, list[data.Item]] = {}
    sub_to_top = {sub: top for top, (_theme, subs) in data.CATEGORIES.items() for sub in subs}
    for item in data.PRODUCTS:
        by_top.setdefault(sub_to_top[item.sub], []).append(item)
    ordered: list[data.Item] = []
    queues = list(by_top.values())
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered if limit is None else ordered[: max(0, limit)]


def build_demo(
    *,
    seed: int = DEFAULT_SEED,
    products: int | None = None,
    progress: Callable[[str], None] | None = None,
    with_activity: bool = True,
) -> DemoResult:
    """Create the demo shop, its staff, catalogue and a few shoppers, all in one transaction."""
    say = progress or (lambda _msg: None)
    rng = random.Random(seed)
    with transaction.atomic():
        shop = shop_create(slug=data.SHOP["slug"], name=data.SHOP["name"], is_default=True)
        owner = staff_create(
            actor=None,
            shop=shop,
            username=data.OWNER["username"],
            password=data.OWNER["password"],
            role=OWNER,
            display_name=data.OWNER["display_name"],
        )
        result = DemoResult(shop=shop, owner=owner, staff=[owner])
        result.staff += [
            staff_create(
                actor=owner,
                shop=shop,
                username=row["username"],
                password=data.STAFF_PASSWORD,
                role=row["role"],
                display_name=row["display_name"],
            )
            for row in data.STAFF
        ]
        say("shop")
        _brand_shop(owner, shop, seed)
        templates = _create_templates(owner, shop)
        categories = _create_categories(owner, shop)
        say("categories")
        for number, item in enumerate(demo_items(products), start=1):
            result.products.append(
                _create_product(
                    owner, shop, item, number=number, rng=rng, seed=seed, templates=templates, categories=categories
                )
            )
            if number % 10 == 0:
                say(f"products:{number}")
        result.featured = _feature(owner, shop, result.products)
        result.shoppers = _create_shoppers(shop)
        if with_activity:
            from .demo_activity import demo_customer_pool, demo_fission, demo_orders

            result.orders = demo_orders(
                shop=shop, owner=owner, shoppers=result.shoppers, products=result.products, rng=rng
            )
            say("orders")
            result.pool = demo_customer_pool(shop=shop, owner=owner, seed=seed)
            say("customers")
            result.fission = demo_fission(shop=shop, owner=owner, shoppers=result.shoppers, products=result.products)
            say("fission")
            from .demo_promotions import demo_promotions

            result.promotions = demo_promotions(shop=shop, owner=owner, products=result.products)
            say("promotions")
            from .demo_journeys import demo_journeys

            demo_journeys(shop=shop, owner=owner)
            say("journeys")
    return result


def _brand_shop(owner: StaffMember, shop: Shop, seed: int) -> None:
    shop_update_profile(
        actor=owner,
        shop=shop,
        data={
            "slogan": data.SHOP["slogan"],
            "audience": data.SHOP["audience"],
            "description": data.SHOP["description"],
            "default_return_policy": "no_reason_7d",
        },
    )
    shop_set_image(actor=owner, shop=shop, kind="logo", upload=images.shop_logo(name=shop.name, seed=seed))
    banner = images.shop_banner(name=shop.name, slogan=data.SHOP["slogan"], badge=data.SHOP["banner_badge"], seed=seed)
    shop_set_image(actor=owner, shop=shop, kind="banner", upload=banner)


def _create_templates(owner: StaffMember, shop: Shop) -> dict[str, ShippingTemplate]:
    templates: dict[str, ShippingTemplate] = {}
    for row in data.SHIPPING:
        fields = {k: v for k, v in row.items() if k != "key"}
        templates[str(row["key"])] = shipping_template_save(actor=owner, shop=shop, data=fields)
    return templates


def _create_categories(owner: StaffMember, shop: Shop) -> dict[str, tuple[Category, str]]:
    """Sub-category name → (sub-category, picture theme of its top category)."""
    subs = {}
    for position, (top_name, (theme, children)) in enumerate(data.CATEGORIES.items()):
        top = category_create(actor=owner, shop=shop, name=top_name, position=position)
        for sub_position, name in enumerate(children):
            subs[name] = (
                category_create(actor=owner, shop=shop, name=name, parent_id=top.pk, position=sub_position),
                theme,
            )
    return subs


def _create_product(
    owner: StaffMember,
    shop: Shop,
    item: data.Item,
    *,
    number: int,
    rng: random.Random,
    seed: int,
    templates: dict,
    categories: dict,
) -> Product:
    category, theme = categories[item.sub]
    product = product_create(
        actor=owner,
        shop=shop,
        data={
            "name": item.name,
            "description": item.description,
            "selling_points": list(item.points),
            "category_id": category.pk,
            "shipping_template_id": templates[item.shipping].pk,
            "return_policy": item.policy,
            "consumption_cycle_days": item.cycle,
            "price": item.price,
        },
    )
    if item.specs:
        skus = product_set_specs(
            actor=owner, product=product, specs=[{"name": name, "values": list(values)} for name, values in item.specs]
        )
    else:
        skus = list(product.skus.all())
    sku_update_many(
        actor=owner,
        product=product,
        rows=[
            _sku_row(item, sku, code=f"SY{number:03d}-{index:02d}", rng=rng) for index, sku in enumerate(skus, start=1)
        ],
    )
    product_set_main_image(
        actor=owner,
        product=product,
        upload=images.product_main_image(
            name=item.name, theme=theme, motif=item.motif, tag=item.tag, brand=shop.name, seed=seed
        ),
    )
    for index in range(1, max(1, min(3, item.images)) + 1):
        point = item.points[(index - 1) % len(item.points)]
        product_add_image(
            actor=owner,
            product=product,
            upload=images.product_detail_image(
                name=item.name, theme=theme, motif=item.motif, point=point, index=index, seed=seed
            ),
        )
    if item.status != ProductStatus.DRAFT:
        product_set_status(actor=owner, product=product, status=ProductStatus.ON_SALE)
    if item.status == ProductStatus.OFF_SHELF:
        product_set_status(actor=owner, product=product, status=ProductStatus.OFF_SHELF, reason="换季下架")
    product.refresh_from_db()
    return product


def _sku_row(item: data.Item, sku, *, code: str, rng: random.Random) -> dict:
    deltas = dict(item.deltas)
    delta = sum(deltas.get(value, 0) for value in sku.spec_values)
    price = item.price + delta
    sold_out = "*" in item.sold_out or sku.spec_key in item.sold_out
    # Costs sit at 35-60% of the price, rounded to the jiao, as a seller's purchase prices would.
    cost = round(price * rng.uniform(0.35, 0.6) / 10) * 10
    return {
        "id": sku.pk,
        "price": price,
        "cost_price": cost,
        "code": code,
        "list_price": item.list_price + delta if item.list_price else None,
        "stock": 0 if sold_out else rng.randint(12, 280),
    }


def _feature(owner: StaffMember, shop: Shop, products: list[Product]) -> list[Product]:
    on_sale = [p for p in products if p.status == ProductStatus.ON_SALE]
    by_name = {p.name: p for p in on_sale}
    chosen = [by_name[name] for name in data.FEATURED if name in by_name]
    # With a shortened catalogue (--products), fill the slots with whatever else is on sale.
    chosen += [p for p in on_sale if p not in chosen][: MAX_FEATURED - len(chosen)]
    return featured_set(actor=owner, shop=shop, product_ids=[p.public_id for p in chosen[:MAX_FEATURED]])


def _create_shoppers(shop: Shop) -> list[Shopper]:
    """Shopper identities are global, so an existing one (same phone) is reused, not duplicated."""
    shoppers = []
    for row in data.SHOPPERS:
        phone = row["phone"]
        shopper = Shopper.objects.filter(phone_hash=lookup_hash(phone)).first()
        if shopper is None:
            shopper = Shopper.objects.create(phone_hash=lookup_hash(phone), phone=phone, nickname=row["nickname"])
        address_create(
            shop=shop,
            shopper=shopper,
            data={
                "recipient": row["recipient"],
                "phone": phone,
                "province": row["province"],
                "city": row["city"],
                "district": row["district"],
                "detail": row["detail"],
                "is_default": True,
            },
        )
        shoppers.append(shopper)
    return shoppers
