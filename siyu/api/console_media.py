"""Console operations for images: a product's detail images (up to 9: upload, reorder, delete) and
the shop's logo and banner. The catalogue and shop services check the permission (catalog.manage
for products, shop.manage for the shop) and read, validate and resize every image; this door only
refuses an oversized file with 413 before anything reads it."""

from ninja import File, Router, UploadedFile
from ninja.responses import Status

from siyu.catalog.media import product_images_reorder
from siyu.catalog.models import MAX_DETAIL_IMAGES
from siyu.catalog.selectors import product_for_staff
from siyu.catalog.services import product_add_image, product_remove_image
from siyu.core.images import MAX_UPLOAD_BYTES
from siyu.shops.selectors import shop_get
from siyu.shops.services import shop_set_image

from .auth import staff_auth
from .console_media_schemas import ImageOrderIn, ProductImageOut
from .console_schemas import ConsoleShopOut
from .schemas import ERRORS, Id
from .uploads import refuse_oversized, upload_description

router = Router(tags=["console"], auth=staff_auth)

# Tells clients (and the fuzz gate) which files the `image` part takes.
_IMAGE_PART = {
    "requestBody": {
        "content": {
            "multipart/form-data": {"encoding": {"image": {"contentType": "image/jpeg, image/png, image/webp"}}}
        }
    }
}
_IMAGE_LIMITS = (
    f"JPEG, PNG or WebP, at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB and 64 to 8000 pixels a side; "
    "it is re-encoded and resized on the server."
)


def _images(request, public_id: str) -> list:
    return list(product_for_staff(shop=request.shop, public_id=public_id).images.all())


# --- a product's detail images -----------------------------------------------------------


@router.get("/products/{public_id}/images", response={200: list[ProductImageOut], **ERRORS})
def product_images(request, public_id: str):
    """The product's detail images in display order."""
    return _images(request, public_id)


@router.post(
    "/products/{public_id}/images",
    response={201: ProductImageOut, **ERRORS},
    openapi_extra=_IMAGE_PART,
    description=upload_description(
        f"Add a detail image at the end (catalog.manage). {_IMAGE_LIMITS} A product has at most "
        f"{MAX_DETAIL_IMAGES}; a tenth is refused with 409 (code too_many_images).",
        limit=MAX_UPLOAD_BYTES,
    ),
)
def product_image_add(request, public_id: str, image: File[UploadedFile]):
    product = product_for_staff(shop=request.shop, public_id=public_id)
    refuse_oversized(image, limit=MAX_UPLOAD_BYTES, field="image")
    return Status(201, product_add_image(actor=request.auth, product=product, upload=image))


@router.put("/products/{public_id}/images/order", response={200: list[ProductImageOut], **ERRORS})
def product_images_order(request, public_id: str, data: ImageOrderIn):
    """Reorder the detail images (catalog.manage). Name every current image once: an id that is
    not one of the product's images is 404; leaving one out is 409 (code image_order_mismatch),
    as the list no longer matches what the product has."""
    product = product_for_staff(shop=request.shop, public_id=public_id)
    return product_images_reorder(actor=request.auth, product=product, image_ids=data.image_ids)


@router.delete("/products/{public_id}/images/{image_id}", response={204: None, **ERRORS})
def product_image_delete(request, public_id: str, image_id: Id):
    """Remove one detail image (catalog.manage); the others keep their order."""
    product = product_for_staff(shop=request.shop, public_id=public_id)
    product_remove_image(actor=request.auth, product=product, image_id=image_id)
    return Status(204, None)


# --- the shop's logo and banner ----------------------------------------------------------


def _shop_image(request, kind: str, image: UploadedFile):
    refuse_oversized(image, limit=MAX_UPLOAD_BYTES, field="image")
    # Save onto a fresh row, not the briefly cached copy the middleware found.
    shop = shop_get(slug=request.shop.slug)
    return shop_set_image(actor=request.auth, shop=shop, kind=kind, upload=image)


@router.post(
    "/shop/logo",
    response={200: ConsoleShopOut, **ERRORS},
    openapi_extra=_IMAGE_PART,
    description=upload_description(
        f"Set the shop's logo (shop.manage), kept at most 400 pixels a side. {_IMAGE_LIMITS}", limit=MAX_UPLOAD_BYTES
    ),
)
def shop_logo(request, image: File[UploadedFile]):
    return _shop_image(request, "logo", image)


@router.post(
    "/shop/banner",
    response={200: ConsoleShopOut, **ERRORS},
    openapi_extra=_IMAGE_PART,
    description=upload_description(
        f"Set the shop's banner poster (shop.manage), kept at most 1500 pixels a side with a 750-pixel "
        f"thumbnail. {_IMAGE_LIMITS}",
        limit=MAX_UPLOAD_BYTES,
    ),
)
def shop_banner(request, image: File[UploadedFile]):
    return _shop_image(request, "banner", image)
