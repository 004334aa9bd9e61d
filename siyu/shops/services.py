import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput
from siyu.core.images import image_process
from siyu.core.permissions import Actor, actor_user, require

from .models import Shop
from .selectors import shop_forget

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
RESERVED_SLUGS = {"api", "console", "admin", "static", "media", "s", "healthz"}
RETURN_POLICIES = {"no_reason_7d", "quality_only", "exchange_only", "no_returns"}
PROFILE_FIELDS = {"name": 60, "slogan": 120, "audience": 200, "description": 2000}


def shop_create(*, slug: str, name: str, host: str = "", is_default: bool = False) -> Shop:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        raise InvalidInput(_("Use 2-40 lowercase letters, digits or dashes."), detail={"slug": slug})
    if not (name or "").strip():
        raise InvalidInput(detail={"name": "required"})
    try:
        with transaction.atomic():
            shop = Shop.objects.create(
                slug=slug, name=name.strip()[:60], host=(host or "").strip().lower(), is_default=is_default
            )
    except IntegrityError:
        raise Conflict(_("A shop with this slug or host already exists."), detail={"slug": slug}) from None
    return shop


def shop_update_profile(*, actor: Actor, shop: Shop, data: dict) -> Shop:
    require(actor, "shop.manage", shop_id=shop.pk)
    errors = {}
    for field, limit in PROFILE_FIELDS.items():
        if field not in data:
            continue
        value = str(data[field] or "").strip()
        if field == "name" and not value:
            errors[field] = "required"
        elif len(value) > limit:
            errors[field] = f"at most {limit} characters"
        else:
            setattr(shop, field, value)
    if "default_return_policy" in data:
        if data["default_return_policy"] not in RETURN_POLICIES:
            errors["default_return_policy"] = "unknown policy"
        else:
            shop.default_return_policy = data["default_return_policy"]
    if errors:
        raise InvalidInput(detail=errors)
    shop.save()
    audit_record(
        shop_id=shop.pk, actor=actor_user(actor), action="shop.update", target=shop, data={"fields": sorted(data)}
    )
    shop_forget(shop)
    return shop


def shop_set_image(*, actor: Actor, shop: Shop, kind: str, upload) -> Shop:
    """Set the logo or the banner poster, resized on the server."""
    require(actor, "shop.manage", shop_id=shop.pk)
    if kind not in ("logo", "banner"):
        raise InvalidInput(detail={"kind": kind})
    processed = image_process(upload, field=kind, full_side=400 if kind == "logo" else 1500, thumb_side=750)
    if kind == "logo":
        shop.logo.save(processed.full_name, processed.full, save=False)
    else:
        shop.banner.save(processed.full_name, processed.full, save=False)
        shop.banner_thumb.save(processed.thumb_name, processed.thumb, save=False)
    shop.save()
    audit_record(shop_id=shop.pk, actor=actor_user(actor), action=f"shop.{kind}", target=shop)
    shop_forget(shop)
    return shop
