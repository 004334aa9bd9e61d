"""Console endpoints for the catalogue: categories, shipping templates, products, SKUs, stock."""

from ninja import File, Query, Router, UploadedFile
from ninja.responses import Status

from siyu.catalog.selectors import (
    categories_tree,
    category_get,
    product_for_staff,
    products_for_staff,
    shipping_template_get,
    shipping_templates,
)
from siyu.catalog.services import (
    category_create,
    category_delete,
    category_update,
    product_create,
    product_set_main_image,
    product_set_specs,
    product_set_status,
    product_update,
    shipping_template_delete,
    shipping_template_save,
    sku_adjust_stock,
    sku_update_many,
)
from siyu.core.errors import NotFound

from .auth import staff_auth
from .console_schemas import (
    CategoryIn,
    CategoryPatchIn,
    ConsoleCategoryOut,
    ConsoleCategoryTreeOut,
    ConsoleProductFilterIn,
    ConsoleProductOut,
    ConsoleProductPage,
    ConsoleSkuOut,
    ProductIn,
    ProductPatchIn,
    ProductStatusIn,
    ShippingTemplateIn,
    ShippingTemplateOut,
    ShippingTemplatePatchIn,
    SkusPatchIn,
    SpecsIn,
    StockAdjustIn,
    StockOut,
)
from .schemas import ERRORS, Id, page_of

router = Router(tags=["console"], auth=staff_auth)

# API names carry their unit; the services speak in plain field names.
_FEN_FIELDS = {
    "price_fen": "price",
    "list_price_fen": "list_price",
    "cost_price_fen": "cost_price",
    "base_fee_fen": "base_fee",
    "free_over_fen": "free_over",
    "remote_surcharge_fen": "remote_surcharge",
}


def _service_names(data: dict) -> dict:
    return {_FEN_FIELDS.get(key, key): value for key, value in data.items()}


# --- categories --------------------------------------------------------------------------


@router.get("/categories", response={200: list[ConsoleCategoryTreeOut], **ERRORS})
def categories(request):
    return categories_tree(shop=request.shop, visible_only=False)


@router.post("/categories", response={201: ConsoleCategoryOut, **ERRORS})
def category_add(request, data: CategoryIn):
    category = category_create(
        actor=request.auth,
        shop=request.shop,
        name=data.name,
        parent_id=data.parent_id,
        position=data.position,
    )
    return Status(201, category)


@router.patch("/categories/{category_id}", response={200: ConsoleCategoryOut, **ERRORS})
def category_change(request, category_id: Id, data: CategoryPatchIn):
    category = category_get(shop=request.shop, category_id=category_id)
    return category_update(
        actor=request.auth,
        category=category,
        name=category.name if data.name is None else data.name,
        position=category.position if data.position is None else data.position,
        is_visible=category.is_visible if data.is_visible is None else data.is_visible,
    )


@router.delete("/categories/{category_id}", response={204: None, **ERRORS})
def category_remove(request, category_id: Id):
    category_delete(actor=request.auth, category=category_get(shop=request.shop, category_id=category_id))
    return Status(204, None)


# --- shipping templates ------------------------------------------------------------------


@router.get("/shipping-templates", response={200: list[ShippingTemplateOut], **ERRORS})
def shipping_template_list(request):
    return shipping_templates(shop=request.shop)


@router.post("/shipping-templates", response={201: ShippingTemplateOut, **ERRORS})
def shipping_template_add(request, data: ShippingTemplateIn):
    template = shipping_template_save(actor=request.auth, shop=request.shop, data=_service_names(data.dict()))
    return Status(201, template)


@router.patch("/shipping-templates/{template_id}", response={200: ShippingTemplateOut, **ERRORS})
def shipping_template_change(request, template_id: Id, data: ShippingTemplatePatchIn):
    template = shipping_template_get(shop=request.shop, template_id=template_id)
    current = {
        "name": template.name,
        "base_fee": template.base_fee,
        "free_over": template.free_over,
        "remote_surcharge": template.remote_surcharge,
        "remote_provinces": template.remote_provinces,
        "is_default": template.is_default,
    }
    # null clears "free over" (never free); for the other fields it just means "unchanged".
    changes = {k: v for k, v in data.dict(exclude_unset=True).items() if v is not None or k == "free_over_fen"}
    return shipping_template_save(
        actor=request.auth, shop=request.shop, data={**current, **_service_names(changes)}, template=template
    )


@router.delete("/shipping-templates/{template_id}", response={204: None, **ERRORS})
def shipping_template_remove(request, template_id: Id):
    template = shipping_template_get(shop=request.shop, template_id=template_id)
    shipping_template_delete(actor=request.auth, template=template)
    return Status(204, None)


# --- products ----------------------------------------------------------------------------


@router.get("/products", response={200: ConsoleProductPage, **ERRORS})
def products(request, filters: Query[ConsoleProductFilterIn]):
    qs = products_for_staff(shop=request.shop, status=filters.status, category_id=filters.category, q=filters.q)
    return page_of(qs, filters)


@router.post("/products", response={201: ConsoleProductOut, **ERRORS})
def product_add(request, data: ProductIn):
    fields = _service_names(data.dict(exclude_unset=True))
    product = product_create(actor=request.auth, shop=request.shop, data=fields)
    return Status(201, product_for_staff(shop=request.shop, public_id=product.public_id))


@router.get("/products/{public_id}", response={200: ConsoleProductOut, **ERRORS})
def product_detail(request, public_id: str):
    return product_for_staff(shop=request.shop, public_id=public_id)


@router.patch("/products/{public_id}", response={200: ConsoleProductOut, **ERRORS})
def product_change(request, public_id: str, data: ProductPatchIn):
    product = product_for_staff(shop=request.shop, public_id=public_id)
    product_update(actor=request.auth, product=product, data=data.dict(exclude_unset=True))
    return product_for_staff(shop=request.shop, public_id=public_id)


@router.post("/products/{public_id}/status", response={200: ConsoleProductOut, **ERRORS})
def product_status(request, public_id: str, data: ProductStatusIn):
    product = product_for_staff(shop=request.shop, public_id=public_id)
    product_set_status(actor=request.auth, product=product, status=data.status, reason=data.reason)
    return product_for_staff(shop=request.shop, public_id=public_id)


@router.put("/products/{public_id}/specs", response={200: list[ConsoleSkuOut], **ERRORS})
def product_specs(request, public_id: str, data: SpecsIn):
    """Set the spec dimensions; answers with the product's active SKUs (the matrix)."""
    product = product_for_staff(shop=request.shop, public_id=public_id)
    return product_set_specs(actor=request.auth, product=product, specs=[s.dict() for s in data.specs])


@router.patch("/products/{public_id}/skus", response={200: list[ConsoleSkuOut], **ERRORS})
def product_skus(request, public_id: str, data: SkusPatchIn):
    product = product_for_staff(shop=request.shop, public_id=public_id)
    rows = [_service_names(row.dict(exclude_unset=True)) for row in data.skus]
    return sku_update_many(actor=request.auth, product=product, rows=rows)


@router.post("/products/{public_id}/skus/{sku_id}/stock", response={200: StockOut, **ERRORS})
def sku_stock(request, public_id: str, sku_id: Id, data: StockAdjustIn):
    product = product_for_staff(shop=request.shop, public_id=public_id)
    sku = next((s for s in product.skus.all() if s.pk == sku_id), None)
    if sku is None:
        raise NotFound(detail={"sku": sku_id})
    stock = sku_adjust_stock(actor=request.auth, sku=sku, delta=data.delta, reason=data.reason)
    return {"sku_id": sku.pk, "stock": stock}


@router.post("/products/{public_id}/main-image", response={200: ConsoleProductOut, **ERRORS})
def product_main_image(request, public_id: str, image: File[UploadedFile]):
    product = product_for_staff(shop=request.shop, public_id=public_id)
    product_set_main_image(actor=request.auth, product=product, upload=image)
    return product_for_staff(shop=request.shop, public_id=public_id)
