"""Writes to the catalogue: categories, shipping templates, products, SKUs, images, featured slots."""

import itertools
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.images import image_process
from siyu.core.money import parse_yuan
from siyu.core.permissions import Actor, actor_user, require
from siyu.core.soldout import soldout_clear_on_commit
from siyu.shops.models import Shop

from .models import (
    MAX_DETAIL_IMAGES,
    MAX_FEATURED,
    Category,
    Product,
    ProductImage,
    ProductStatus,
    ReturnPolicy,
    ShippingTemplate,
    Sku,
)
from .price_guards import price_guards_run
from .shipping import DEFAULT_REMOTE_PROVINCES

MAX_SPECS, MAX_SPEC_VALUES, MAX_SKUS = 3, 30, 300


def _manage(actor: Actor, shop: Shop) -> None:
    require(actor, "catalog.manage", shop_id=shop.pk)


def _text(data: dict, field: str, limit: int, errors: dict, *, required: bool = False) -> str:
    value = str(data.get(field) or "").strip()
    if required and not value:
        errors[field] = "required"
    elif len(value) > limit:
        errors[field] = f"at most {limit} characters"
    return value


def _fen(value, field: str, errors: dict, *, optional: bool = False) -> int | None:
    """Accept integer fen (API) or a yuan string such as '12.50' (forms)."""
    if value is None or value == "":
        if optional:
            return None
        errors[field] = "required"
        return None
    if isinstance(value, bool):
        errors[field] = "not a number"
        return None
    if isinstance(value, int):
        if value < 0 or value > 10_000_000_000:
            errors[field] = "out of range"
            return None
        return value
    try:
        return parse_yuan(value, field=field)
    except InvalidInput as exc:
        errors.update(exc.detail)
        return None


# --- categories --------------------------------------------------------------------------


def category_create(
    *, actor: Actor, shop: Shop, name: str, parent_id: int | None = None, position: int = 0
) -> Category:
    _manage(actor, shop)
    errors: dict = {}
    name = _text({"name": name}, "name", 30, errors, required=True)
    parent = None
    if parent_id:
        parent = Category.objects.filter(shop=shop, pk=parent_id).first()
        if parent is None:  # another shop's category is missing too, never a hint that it exists
            raise NotFound(detail={"parent_id": parent_id})
        if parent.parent_id is not None:
            errors["parent"] = "categories have two levels at most"
    if errors:
        raise InvalidInput(detail=errors)
    try:
        with transaction.atomic():
            category = Category.objects.create(shop=shop, parent=parent, name=name, position=max(0, int(position)))
    except IntegrityError:
        raise Conflict(_("A category with this name exists here already."), detail={"name": name}) from None
    audit_record(shop_id=shop.pk, actor=actor_user(actor), action="category.create", target=category)
    return category


def category_update(*, actor: Actor, category: Category, name: str, position: int, is_visible: bool) -> Category:
    _manage(actor, category.shop)
    errors: dict = {}
    category.name = _text({"name": name}, "name", 30, errors, required=True)
    if errors:
        raise InvalidInput(detail=errors)
    category.position, category.is_visible = max(0, int(position)), bool(is_visible)
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise Conflict(_("A category with this name exists here already."), detail={"name": name}) from None
    return category


def category_delete(*, actor: Actor, category: Category) -> None:
    _manage(actor, category.shop)
    if category.children.exists() or category.products.exists():
        raise Conflict(_("Move its products and sub-categories out first."), code="category_in_use")
    audit_record(
        shop_id=category.shop_id,
        actor=actor_user(actor),
        action="category.delete",
        target=category,
        data={"name": category.name},
    )
    category.delete()


# --- shipping templates ------------------------------------------------------------------


def _template_fields(data: dict) -> dict:
    errors: dict = {}
    clean: dict[str, Any] = {
        "name": _text(data, "name", 40, errors, required=True),
        "base_fee": _fen(data.get("base_fee"), "base_fee", errors),
        "free_over": _fen(data.get("free_over"), "free_over", errors, optional=True),
        "remote_surcharge": _fen(data.get("remote_surcharge") or 0, "remote_surcharge", errors),
    }
    provinces = data.get("remote_provinces")
    if provinces is None:
        provinces = DEFAULT_REMOTE_PROVINCES
    if isinstance(provinces, str):
        provinces = [p for p in provinces.replace("，", ",").replace("、", ",").split(",")]
    provinces = [str(p).strip() for p in provinces if str(p).strip()]
    if len(provinces) > 34 or any(len(p) > 10 for p in provinces):
        errors["remote_provinces"] = "at most 34 province names"
    clean["remote_provinces"] = provinces
    if errors:
        raise InvalidInput(detail=errors)
    return clean


def shipping_template_save(
    *, actor: Actor, shop: Shop, data: dict, template: ShippingTemplate | None = None
) -> ShippingTemplate:
    """Create (template=None) or update a shipping template."""
    _manage(actor, shop)
    clean = _template_fields(data)
    with transaction.atomic():
        if template is None:
            template = ShippingTemplate(shop=shop)
        for key, value in clean.items():
            setattr(template, key, value)
        has_default = ShippingTemplate.objects.filter(shop=shop, is_default=True).exclude(pk=template.pk).exists()
        template.is_default = bool(data.get("is_default")) or not has_default
        template.save()
        if template.is_default:
            ShippingTemplate.objects.filter(shop=shop).exclude(pk=template.pk).update(is_default=False)
    return template


def shipping_template_delete(*, actor: Actor, template: ShippingTemplate) -> None:
    _manage(actor, template.shop)
    if Product.objects.filter(shipping_template=template).exists():
        raise Conflict(_("Products still use this template."), code="template_in_use")
    template.delete()


# --- products ----------------------------------------------------------------------------


def _product_fields(shop: Shop, data: dict, errors: dict) -> dict:
    """The product's fields, cleaned; problems go into `errors`, except a category or shipping
    template that is not this shop's, which raises NotFound naming the field."""
    clean: dict = {}
    missing: dict = {}
    if "name" in data:
        clean["name"] = _text(data, "name", 60, errors, required=True)
    if "description" in data:
        clean["description"] = _text(data, "description", 5000, errors)
    if "selling_points" in data:
        points = data["selling_points"]
        if isinstance(points, str):
            points = points.splitlines()
        points = [str(p).strip() for p in points or [] if str(p).strip()]
        if len(points) > 5 or any(len(p) > 30 for p in points):
            errors["selling_points"] = "at most 5 points of 30 characters"
        clean["selling_points"] = points
    if "category_id" in data:
        cid = data["category_id"] or None
        clean["category"] = Category.objects.filter(shop=shop, pk=cid).first() if cid else None
        if cid and clean["category"] is None:
            missing["category_id"] = cid
    if "shipping_template_id" in data:
        tid = data["shipping_template_id"] or None
        clean["shipping_template"] = ShippingTemplate.objects.filter(shop=shop, pk=tid).first() if tid else None
        if tid and clean["shipping_template"] is None:
            missing["shipping_template_id"] = tid
    if missing:  # a referenced row that is not this shop's: 404, whatever else is wrong
        raise NotFound(detail=missing)
    if "return_policy" in data:
        if data["return_policy"] not in ReturnPolicy.values:
            errors["return_policy"] = "unknown policy"
        clean["return_policy"] = data["return_policy"]
    if "consumption_cycle_days" in data:
        days = data["consumption_cycle_days"]
        if days in (None, ""):
            clean["consumption_cycle_days"] = None
        else:
            try:
                days = int(days)
            except (TypeError, ValueError):
                days = -1
            if not 1 <= days <= 3650:
                errors["consumption_cycle_days"] = "1 to 3650 days"
            clean["consumption_cycle_days"] = days
    return clean


def product_create(*, actor: Actor, shop: Shop, data: dict) -> Product:
    """Create a draft product with one SKU (add specs later for a matrix)."""
    _manage(actor, shop)
    errors: dict = {}
    data = {"return_policy": shop.default_return_policy, **data}
    clean = _product_fields(shop, data, errors)
    if "name" not in clean:
        errors["name"] = "required"
    price = _fen(data.get("price", 0), "price", errors) or 0  # None only with an error, raised below
    stock = _int(data.get("stock", 0), "stock", errors)
    if errors:
        raise InvalidInput(_("Please check the product."), detail=errors)
    if "shipping_template" not in clean:
        clean["shipping_template"] = ShippingTemplate.objects.filter(shop=shop, is_default=True).first()
    with transaction.atomic():
        product = Product.objects.create(shop=shop, **clean)
        Sku.objects.create(shop=shop, product=product, price=price, stock=stock)
        _refresh_prices(product)
    audit_record(shop_id=shop.pk, actor=actor_user(actor), action="product.create", target=product)
    return product


def product_update(*, actor: Actor, product: Product, data: dict) -> Product:
    _manage(actor, product.shop)
    errors: dict = {}
    clean = _product_fields(product.shop, data, errors)
    if errors:
        raise InvalidInput(_("Please check the product."), detail=errors)
    for key, value in clean.items():
        setattr(product, key, value)
    product.save()
    audit_record(
        shop_id=product.shop_id,
        actor=actor_user(actor),
        action="product.update",
        target=product,
        data={"fields": sorted(clean)},
    )
    return product


PRODUCT_TRANSITIONS: dict[str, set[str]] = {
    ProductStatus.DRAFT: {ProductStatus.ON_SALE, ProductStatus.OFF_SHELF},
    ProductStatus.ON_SALE: {ProductStatus.OFF_SHELF},
    ProductStatus.OFF_SHELF: {ProductStatus.ON_SALE, ProductStatus.DRAFT},
}


def product_set_status(*, actor: Actor, product: Product, status: str, reason: str = "") -> Product:
    _manage(actor, product.shop)
    if status == product.status:
        return product
    if status not in PRODUCT_TRANSITIONS.get(product.status, set()):
        raise Conflict(
            _("This status change is not allowed."),
            code="bad_transition",
            detail={"from": product.status, "to": status},
        )
    if status == ProductStatus.ON_SALE:
        if not product.skus.filter(is_active=True, price__gt=0).exists():
            raise Conflict(_("Give at least one SKU a price before putting it on sale."), code="no_price")
    before = product.status
    with transaction.atomic():
        product.status = status
        if status != ProductStatus.ON_SALE:
            product.featured_position = None
        product.save(update_fields=["status", "featured_position", "updated_at"])
        audit_record(
            shop_id=product.shop_id,
            actor=actor_user(actor),
            action="product.status",
            target=product,
            data={"from": before, "to": status, "reason": reason[:200]},
        )
    return product


def _int(value, field: str, errors: dict) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = "not a whole number"
        return 0
    if not 0 <= number <= 10_000_000:
        errors[field] = "0 to 10000000"
    return number


def _refresh_prices(product: Product) -> None:
    agg = product.skus.filter(is_active=True).aggregate(lo=Min("price"), hi=Max("price"), lp=Max("list_price"))
    product.price_min, product.price_max, product.list_price = agg["lo"] or 0, agg["hi"] or 0, agg["lp"]
    Product.objects.filter(pk=product.pk).update(
        price_min=product.price_min, price_max=product.price_max, list_price=product.list_price
    )


def product_set_specs(*, actor: Actor, product: Product, specs: list[dict]) -> list[Sku]:
    """Define spec dimensions (e.g. colour: red, blue × size: S, M) and build the SKU matrix.

    SKUs whose spec combination survives keep their price and stock; new combinations start at
    the product's lowest price with no stock; dropped ones are switched off, not deleted.
    """
    _manage(actor, product.shop)
    names, value_lists = _specs_clean(specs)
    combos = [list(c) for c in itertools.product(*value_lists)] if names else [[]]
    if len(combos) > MAX_SKUS:
        raise InvalidInput(detail={"specs": f"at most {MAX_SKUS} combinations"})
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()
        existing = {s.spec_key: s for s in product.skus.all()}
        wanted = {"/".join(c): c for c in combos}
        seed_price = product.price_min
        for key, values in wanted.items():
            sku = existing.get(key)
            if sku is None:
                Sku.objects.create(
                    shop_id=product.shop_id,
                    product=product,
                    spec_key=key,
                    spec_values=values,
                    price=seed_price,
                    stock=0,
                )
            elif not sku.is_active:
                Sku.objects.filter(pk=sku.pk).update(is_active=True)
        product.skus.exclude(spec_key__in=list(wanted)).update(is_active=False)
        product.spec_names = names
        product.save(update_fields=["spec_names", "updated_at"])
        _refresh_prices(product)
    return list(product.skus.filter(is_active=True))


def _specs_clean(specs: list[dict]) -> tuple[list[str], list[list[str]]]:
    if not isinstance(specs, list) or len(specs) > MAX_SPECS:
        raise InvalidInput(detail={"specs": f"at most {MAX_SPECS} spec dimensions"})
    names, value_lists = [], []
    for spec in specs:
        name = str((spec or {}).get("name") or "").strip()
        values = [str(v).strip() for v in (spec or {}).get("values") or [] if str(v).strip()]
        values = list(dict.fromkeys(values))
        if not name or len(name) > 10 or not values or len(values) > MAX_SPEC_VALUES:
            raise InvalidInput(_("Each spec needs a name and 1-30 values."), detail={"specs": name or "?"})
        if any(len(v) > 20 or "/" in v for v in values) or name in names:
            raise InvalidInput(_("Spec values are at most 20 characters, without '/'."), detail={"specs": name})
        names.append(name)
        value_lists.append(values)
    return names, value_lists


def sku_update_many(*, actor: Actor, product: Product, rows: list[dict]) -> list[Sku]:
    """Set price, list price, cost price, stock, code and on/off for SKUs of one product.

    A new price passes the registered price guards (a row may carry `price_override_reason`)."""
    _manage(actor, product.shop)
    skus = {s.pk: s for s in product.skus.all()}
    errors: dict = {}
    updates = []
    repriced: list[tuple[Sku, str]] = []
    for row in rows:
        sku = skus.get(_int(row.get("id"), "id", {}))
        if sku is None:
            errors[str(row.get("id"))] = {"id": "not found"}
            continue
        row_errors: dict = {}
        if "price" in row:
            old_price = sku.price
            sku.price = _fen(row["price"], "price", row_errors) or 0
            if sku.price != old_price:
                repriced.append((sku, str(row.get("price_override_reason") or "")))
        if "list_price" in row:
            sku.list_price = _fen(row["list_price"], "list_price", row_errors, optional=True)
        if "cost_price" in row:
            sku.cost_price = _fen(row["cost_price"], "cost_price", row_errors, optional=True)
        if "stock" in row:
            sku.stock = _int(row["stock"], "stock", row_errors)
        if "code" in row:
            sku.code = _text(row, "code", 40, row_errors)
        if "is_active" in row:
            sku.is_active = bool(row["is_active"])
        if sku.list_price is not None and sku.list_price < sku.price:
            row_errors["list_price"] = "must not be below the price"
        if row_errors:
            errors[str(sku.pk)] = row_errors
        updates.append(sku)
    if errors:
        raise InvalidInput(_("Please check the SKUs."), detail=errors)
    with transaction.atomic():
        for sku, reason in repriced:
            price_guards_run(sku=sku, price=sku.price, override_reason=reason, actor=actor)
        Sku.objects.bulk_update(updates, ["price", "list_price", "cost_price", "stock", "code", "is_active"])
        soldout_clear_on_commit(sku_ids=[s.pk for s in updates])  # stock or is_active may be back
        _refresh_prices(product)
        audit_record(
            shop_id=product.shop_id,
            actor=actor_user(actor),
            action="sku.update",
            target=product,
            data={"skus": [s.pk for s in updates]},
        )
    return list(product.skus.all())


def sku_adjust_stock(*, actor: Actor, sku: Sku, delta: int, reason: str = "") -> int:
    """Add or remove stock with one conditional UPDATE; never below zero."""
    require(actor, "catalog.manage", shop_id=sku.shop_id)
    from django.db.models import F

    changed = Sku.objects.filter(pk=sku.pk, stock__gte=max(0, -delta)).update(stock=F("stock") + delta)
    if not changed:
        raise Conflict(_("Not enough stock."), code="insufficient_stock", detail={"sku": sku.pk})
    if delta > 0:
        soldout_clear_on_commit(sku_ids=[sku.pk])
    audit_record(
        shop_id=sku.shop_id,
        actor=actor_user(actor),
        action="sku.stock",
        target=sku,
        data={"delta": delta, "reason": reason[:200]},
    )
    return Sku.objects.values_list("stock", flat=True).get(pk=sku.pk)


# --- images ------------------------------------------------------------------------------


def product_set_main_image(*, actor: Actor, product: Product, upload) -> Product:
    _manage(actor, product.shop)
    processed = image_process(upload, field="main_image")
    product.main_image.save(processed.full_name, processed.full, save=False)
    product.main_thumb.save(processed.thumb_name, processed.thumb, save=False)
    product.save(update_fields=["main_image", "main_thumb", "updated_at"])
    return product


def product_add_image(*, actor: Actor, product: Product, upload) -> ProductImage:
    _manage(actor, product.shop)
    processed = image_process(upload, field="image")
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()
        count = product.images.count()
        if count >= MAX_DETAIL_IMAGES:
            raise Conflict(_("A product has at most 9 detail images."), code="too_many_images")
        image = ProductImage(product=product, position=count)
        image.image.save(processed.full_name, processed.full, save=False)
        image.thumb.save(processed.thumb_name, processed.thumb, save=False)
        image.save()
    return image


def product_remove_image(*, actor: Actor, product: Product, image_id: int) -> None:
    _manage(actor, product.shop)
    image = product.images.filter(pk=image_id).first()
    if image is None:
        raise NotFound(detail={"image": image_id})
    image.delete()


# --- featured slots ----------------------------------------------------------------------


def featured_set(*, actor: Actor, shop: Shop, product_ids: list[str]) -> list[Product]:
    """Put up to 8 on-sale products, in this order, in the home page's featured slots."""
    _manage(actor, shop)
    ids = list(dict.fromkeys(str(p) for p in product_ids))
    if len(ids) > MAX_FEATURED:
        raise InvalidInput(_("At most 8 featured products."), code="too_many_featured", detail={"max": MAX_FEATURED})
    products = {p.public_id: p for p in Product.objects.filter(shop=shop, public_id__in=ids)}
    missing = [i for i in ids if i not in products]
    if missing:
        raise NotFound(detail={"product_ids": missing})
    not_on_sale = [i for i in ids if products[i].status != ProductStatus.ON_SALE]
    if not_on_sale:
        raise Conflict(
            _("Only products on sale can be featured."), code="not_on_sale", detail={"not_on_sale": not_on_sale}
        )
    with transaction.atomic():
        Product.objects.filter(shop=shop, featured_position__isnull=False).update(featured_position=None)
        for position, pid in enumerate(ids, start=1):
            Product.objects.filter(pk=products[pid].pk).update(featured_position=position)
        audit_record(shop_id=shop.pk, actor=actor_user(actor), action="featured.set", target=shop, data={"ids": ids})
    return [products[i] for i in ids]
