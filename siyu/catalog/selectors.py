"""Reads of the catalogue, each with a fixed number of queries."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet, Sum

from siyu.core.errors import NotFound
from siyu.shops.models import Shop

from .models import Category, Product, ProductImage, ProductStatus, ShippingTemplate, Sku

LIST_FIELDS = (
    "public_id",
    "name",
    "main_thumb",
    "price_min",
    "price_max",
    "list_price",
    "status",
    "selling_points",
    "featured_position",
    "category_id",
    "shop_id",
)


def products_on_sale(*, shop: Shop, category_id: int | None = None, q: str = "") -> QuerySet[Product]:
    """What shoppers can browse. A top category includes its sub-categories."""
    qs = Product.objects.filter(shop=shop, status=ProductStatus.ON_SALE).only(*LIST_FIELDS)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("-id")


def products_featured(*, shop: Shop) -> list[Product]:
    return list(
        Product.objects.filter(shop=shop, status=ProductStatus.ON_SALE, featured_position__isnull=False)
        .only(*LIST_FIELDS)
        .order_by("featured_position")
    )


@dataclass(frozen=True)
class CategoryNode:
    """A top category and its sub-categories (categories have two levels), in display order."""

    category: Category
    subs: list[Category]


def categories_tree(*, shop: Shop, visible_only: bool = True) -> list[CategoryNode]:
    """The shop's categories as a tree of top categories, from one query."""
    qs = Category.objects.filter(shop=shop).order_by("position", "id")
    rows = list(qs.filter(is_visible=True) if visible_only else qs)
    children: dict[int, list[Category]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    return [CategoryNode(category=c, subs=children.get(c.pk, [])) for c in rows if c.parent_id is None]


def category_get(*, shop: Shop, category_id: int) -> Category:
    category = Category.objects.filter(shop=shop, pk=category_id).select_related("parent").first()
    if category is None:
        raise NotFound(detail={"category": category_id})
    return category


def product_for_shopper(*, shop: Shop, public_id: str) -> Product:
    """A product page: the product, its active SKUs and its images, in three queries."""
    product = (
        Product.objects.filter(shop=shop, public_id=public_id)
        .exclude(status=ProductStatus.DRAFT)
        .select_related("category", "shipping_template")
        .prefetch_related(
            Prefetch("skus", queryset=Sku.objects.filter(is_active=True).defer("cost_price"), to_attr="active_skus"),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"), to_attr="detail_images"),
        )
        .first()
    )
    if product is None:
        raise NotFound(detail={"product": public_id})
    return product


def product_for_staff(*, shop: Shop, public_id: str) -> Product:
    product = (
        Product.objects.filter(shop=shop, public_id=public_id)
        .select_related("category", "shipping_template")
        .prefetch_related("skus", "images")
        .first()
    )
    if product is None:
        raise NotFound(detail={"product": public_id})
    return product


def products_for_staff(
    *, shop: Shop, status: str = "", category_id: int | None = None, q: str = ""
) -> QuerySet[Product]:
    qs = (
        Product.objects.filter(shop=shop)
        .select_related("category")
        .annotate(stock_total=Sum("skus__stock", filter=Q(skus__is_active=True)))
    )
    if status:
        qs = qs.filter(status=status)
    if category_id:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    q = (q or "").strip()[:50]
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("-id")


def shipping_templates(*, shop: Shop) -> list[ShippingTemplate]:
    return list(ShippingTemplate.objects.filter(shop=shop))


def catalog_counts(*, shop: Shop) -> dict:
    from django.db.models import Count

    by_status = dict(
        Product.objects.filter(shop=shop).values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    sold_out = Sku.objects.filter(shop=shop, is_active=True, stock=0, product__status=ProductStatus.ON_SALE).count()
    return {
        "products": sum(by_status.values()),
        "on_sale": by_status.get(ProductStatus.ON_SALE, 0),
        "draft": by_status.get(ProductStatus.DRAFT, 0),
        "off_shelf": by_status.get(ProductStatus.OFF_SHELF, 0),
        "skus_sold_out": sold_out,
        "categories": Category.objects.filter(shop=shop).count(),
    }


def shipping_template_get(*, shop: Shop, template_id: int) -> ShippingTemplate:
    template = ShippingTemplate.objects.filter(shop=shop, pk=template_id).first()
    if template is None:
        raise NotFound(detail={"shipping_template": template_id})
    return template


def return_policy_counts(*, shop: Shop) -> dict[str, int]:
    """How many products use each return policy, from one query."""
    from django.db.models import Count

    rows = Product.objects.filter(shop=shop).values("return_policy").annotate(n=Count("id")).order_by()
    return {row["return_policy"]: row["n"] for row in rows}


def sku_for_staff(*, shop: Shop, sku_id: int) -> Sku:
    """One SKU of this shop with its product; NotFound for another shop's."""
    sku = Sku.objects.filter(shop=shop, pk=sku_id).select_related("product").first()
    if sku is None:
        raise NotFound(detail={"sku": sku_id})
    return sku
