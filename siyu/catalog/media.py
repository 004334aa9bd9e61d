"""A product's detail images beyond adding and removing one (catalog/services.py): their order.

Adding, reordering and removing all take the product's row lock first, so a reorder never races
an upload into a half-numbered list.
"""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.permissions import Actor, actor_user, require

from .models import Product, ProductImage


def product_images_reorder(*, actor: Actor, product: Product, image_ids: list[int]) -> list[ProductImage]:
    """Put the product's detail images in this order (positions 0, 1, 2, …) and return them.

    `image_ids` must name every current image exactly once: an id that is not one of them is
    NotFound, a partial list (which would leave the rest at colliding positions) a Conflict.
    Locks: the product row (as product_add_image does), then the images change under it.
    """
    require(actor, "catalog.manage", shop_id=product.shop_id)
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()
        images = {image.pk: image for image in ProductImage.objects.filter(product=product)}
        wanted = list(image_ids)
        unknown = sorted({i for i in wanted if i not in images})
        if unknown:
            raise NotFound(detail={"images": unknown})
        if len(set(wanted)) != len(wanted):
            raise InvalidInput(detail={"image_ids": "each image may appear only once"})
        missing = sorted(set(images) - set(wanted))
        if missing:
            # The caller's list no longer matches the product (an image was added meanwhile).
            raise Conflict(
                _("List every image of the product once, in the new order."),
                code="image_order_mismatch",
                detail={"missing": missing},
            )
        ordered = [images[i] for i in wanted]
        for position, image in enumerate(ordered):
            image.position = position
        ProductImage.objects.bulk_update(ordered, ["position"])
        audit_record(
            shop_id=product.shop_id,
            actor=actor_user(actor),
            action="product.images_order",
            target=product,
            data={"ids": wanted},
        )
    return ordered
