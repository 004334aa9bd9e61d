"""Writing the content library: posts (text, up to 9 images or a product poster, tags, schedule,
persona) and personas. The seller's staff with promotions.manage write; every change is audited.

Rules
- At most 9 images in a post (a product poster, which needs a product, counts as one). A draft may be empty; a scheduled
  post has text or an image (409 post_empty). A product, persona or account that is not the
  shop's is 404.
- Images are checked before anything is stored, and re-encoded without metadata (see images.py).
  Files of a failed save are removed after the rollback; files a post no longer shows, after commit.
- Deleting a post keeps its row (deleted_at): its figures stay, and a link already shared still
  leads to the shop (recording nothing more).

Locks: the post row (rank REACTION) while its images change; nothing else is locked.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.catalog.models import Product
from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id as new_public_id
from siyu.core.permissions import require
from siyu.core.settings_rows import yes_no
from siyu.customers.models import SocialAccount
from siyu.promotions.discounts.rules import clean_moment
from siyu.shops.models import Shop

from .flags import content_flags_forget
from .images import MAX_IMAGES, TOO_MANY, images_discard, images_process, images_store
from .models import Persona, Post
from .selectors import MANAGE

MAX_TEXT, MAX_TITLE, MAX_CAMPAIGN, MAX_TAGS, MAX_TAG, MAX_TONE, MAX_NAME = 2000, 60, 40, 10, 20, 500, 40
POST_FIELDS = ("title", "text", "product", "poster", "campaign", "tags", "persona", "publish_at")


def _text(value, *, field: str, limit: int, errors: dict) -> str:
    text = str(value if value is not None else "").strip()
    if len(text) > limit:
        errors[field] = f"at most {limit} characters"
    return text


def _tags(value, errors: dict) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", ",").replace("#", ",").replace("\n", ",").split(",")
    if not isinstance(value, list | tuple):
        errors["tags"] = "a list of tags is expected"
        return []
    tags: list[str] = []
    for item in value:
        tag = str(item if item is not None else "").strip().replace("|", "")
        if len(tag) > MAX_TAG:
            errors["tags"] = f"each tag at most {MAX_TAG} characters"
        elif tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"at most {MAX_TAGS} tags"
    return tags


def _product(shop: Shop, value, errors: dict) -> Product | None:
    if not value:
        return None
    found = Product.objects.filter(shop=shop, public_id=str(value)[:20]).exclude(status="draft").first()
    if found is None:
        raise NotFound(detail={"product": str(value)[:20]})
    return found


def _persona(shop: Shop, value, errors: dict) -> Persona | None:
    if not value:
        return None
    found = Persona.objects.filter(shop=shop, public_id=str(value)[:16]).first()
    if found is None:
        raise NotFound(detail={"persona": str(value)[:16]})
    return found


def _post_values(shop: Shop, data: dict, current: Post | None) -> dict:
    """The post's fields from `data` (fields left out keep the current values)."""
    errors: dict = {}
    values: dict = {}
    if "title" in data:
        values["title"] = _text(data["title"], field="title", limit=MAX_TITLE, errors=errors)
    if "text" in data:
        values["text"] = _text(data["text"], field="text", limit=MAX_TEXT, errors=errors)
    if "campaign" in data:
        values["campaign"] = _text(data["campaign"], field="campaign", limit=MAX_CAMPAIGN, errors=errors)
    if "tags" in data:
        values["tags"] = _tags(data["tags"], errors)
        values["tag_index"] = f"|{'|'.join(values['tags'])}|" if values["tags"] else ""
    if "product" in data:
        values["product"] = _product(shop, data["product"], errors)
    if "persona" in data:
        values["persona"] = _persona(shop, data["persona"], errors)
    if "poster" in data:
        values["poster"] = bool(yes_no(data["poster"]))
    if "publish_at" in data:  # empty: a draft again
        when = data["publish_at"]
        values["publish_at"] = clean_moment(when, field="publish_at", errors=errors) if when not in (None, "") else None
    product = values["product"] if "product" in values else (current.product if current else None)
    if errors:
        raise InvalidInput(detail=errors)
    if values.get("poster") and product is None:
        raise Conflict(_("Choose a product for the poster."), code="poster_needs_product")
    return values


def _check_whole(post: Post) -> None:
    if len(post.images) + int(post.poster) > MAX_IMAGES:
        raise Conflict(TOO_MANY, code="too_many_images", detail={"images": f"at most {MAX_IMAGES}"})
    if post.publish_at is not None and not post.text and not post.images and not post.poster:
        # A draft may be empty (filled in later); a post on a day's list has something to share.
        raise Conflict(_("Write some text or add an image before scheduling the post."), code="post_empty")


def post_create(*, actor, shop: Shop, data: dict, images: list | None = None) -> Post:
    """A new post; without `publish_at` it is a draft."""
    require(actor, MANAGE, shop_id=shop.pk)
    values = _post_values(shop, {k: v for k, v in data.items() if k in POST_FIELDS}, None)
    processed = images_process(images, room=MAX_IMAGES - int(bool(values.get("poster"))))
    post = Post(shop=shop, code=new_public_id(10), **values)
    post.images = [{}] * len(processed)
    _check_whole(post)
    stored = images_store(processed)
    try:
        with transaction.atomic():
            post.images = stored
            post.save()
            audit_record(shop_id=shop.pk, actor=actor, action="content.post_create", target=post, data=_said(post))
            content_flags_forget(shop_id=shop.pk)
    except Exception:
        images_discard(stored)
        raise
    return post


def _said(post: Post) -> dict:
    return {
        "title": post.title,
        "publish_at": post.publish_at.isoformat() if post.publish_at else None,
        "images": len(post.images),
        "poster": post.poster,
        "product": post.product_id,
        "persona": post.persona_id,
    }


def _locked(*, shop: Shop, code: str) -> Post:
    post = locks.lock_one(
        Post.objects.filter(shop=shop, code=str(code)[:16], deleted_at__isnull=True), rank=locks.REACTION
    )
    if post is None:
        raise NotFound(detail={"post": str(code)[:16]})
    return post


def post_update(
    *,
    actor,
    shop: Shop,
    code: str,
    data: dict,
    add_images: list | None = None,
    remove_images: list[int] | None = None,
) -> Post:
    """Change a post: its fields (those in `data`), images added at the end, images removed by their
    position (0-based, as listed). Locks: the post."""
    require(actor, MANAGE, shop_id=shop.pk)
    processed = images_process(add_images)  # checked before the lock; the room is checked under it
    stored = images_store(processed)
    try:
        with transaction.atomic():
            post = _locked(shop=shop, code=code)
            before = _said(post)
            for name, value in _post_values(shop, {k: v for k, v in data.items() if k in POST_FIELDS}, post).items():
                setattr(post, name, value)
            drop = {int(n) for n in remove_images or [] if str(n).isdigit() and int(n) < len(post.images)}
            removed = [img for n, img in enumerate(post.images) if n in drop]
            post.images = [img for n, img in enumerate(post.images) if n not in drop] + stored
            _check_whole(post)
            post.save()
            audit_record(
                shop_id=shop.pk,
                actor=actor,
                action="content.post_update",
                target=post,
                data={"from": before, "to": _said(post)},
            )
            transaction.on_commit(lambda: images_discard(removed))
    except Exception:
        images_discard(stored)
        raise
    return post


def post_schedule(*, actor, shop: Shop, code: str, publish_at) -> Post:
    """Put a post on a day's list at a time, or back to the drafts (`publish_at` None)."""
    return post_update(actor=actor, shop=shop, code=code, data={"publish_at": publish_at})


def post_delete(*, actor, shop: Shop, code: str) -> Post:
    """Take a post off every list; its figures and its images stay (a link already shared keeps working)."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        post = _locked(shop=shop, code=code)
        post.deleted_at = timezone.now()
        post.save(update_fields=["deleted_at", "updated_at"])
        audit_record(shop_id=shop.pk, actor=actor, action="content.post_delete", target=post, data=_said(post))
        content_flags_forget(shop_id=shop.pk)
    return post


# --- personas ------------------------------------------------------------------------------------


def _persona_values(shop: Shop, data: dict, *, creating: bool) -> dict:
    errors: dict = {}
    values: dict = {}
    if "name" in data or creating:
        values["name"] = _text(data.get("name"), field="name", limit=MAX_NAME, errors=errors)
        if not values["name"]:
            errors["name"] = "required"
    if "tone" in data:
        values["tone"] = _text(data["tone"], field="tone", limit=MAX_TONE, errors=errors)
    if "account" in data:
        values["account"] = None
        if data["account"] not in (None, ""):
            values["account"] = SocialAccount.objects.filter(shop=shop, pk=_int(data["account"])).first()
            if values["account"] is None:
                raise NotFound(detail={"account": str(data["account"])[:20]})
    if errors:
        raise InvalidInput(detail=errors)
    return values


def _int(value) -> int:
    text = str(value).strip()
    return int(text) if text.isdigit() and len(text) < 12 else 0


def _avatar(upload) -> dict | None:
    if upload is None:
        return None
    processed = images_process([upload], field="avatar", room=1)
    return images_store(processed)[0]


def persona_create(*, actor, shop: Shop, data: dict, avatar=None) -> Persona:
    require(actor, MANAGE, shop_id=shop.pk)
    values = _persona_values(shop, data, creating=True)
    stored = _avatar(avatar)
    try:
        with transaction.atomic():
            persona = Persona.objects.create(shop=shop, public_id=new_public_id(12), avatar=stored or {}, **values)
            audit_record(
                shop_id=shop.pk,
                actor=actor,
                action="content.persona_create",
                target=persona,
                data={"name": persona.name},
            )
    except Exception:
        images_discard([stored] if stored else [])
        raise
    return persona


def persona_update(*, actor, shop: Shop, public_id: str, data: dict, avatar=None) -> Persona:
    """Change a persona's fields (those in `data`) and/or its avatar (the old file goes after commit)."""
    require(actor, MANAGE, shop_id=shop.pk)
    values = _persona_values(shop, data, creating=False)
    stored = _avatar(avatar)
    try:
        with transaction.atomic():
            persona = locks.lock_one(
                Persona.objects.filter(shop=shop, public_id=str(public_id)[:16]), rank=locks.REACTION
            )
            if persona is None:
                raise NotFound(detail={"persona": str(public_id)[:16]})
            old = dict(persona.avatar or {})
            for name, value in values.items():
                setattr(persona, name, value)
            if stored:
                persona.avatar = stored
                transaction.on_commit(lambda: images_discard([old] if old else []))
            persona.save()
            audit_record(
                shop_id=shop.pk,
                actor=actor,
                action="content.persona_update",
                target=persona,
                data={"name": persona.name},
            )
    except Exception:
        images_discard([stored] if stored else [])
        raise
    return persona


def persona_delete(*, actor, shop: Shop, public_id: str) -> None:
    """Remove a persona; its posts stay, without a persona."""
    require(actor, MANAGE, shop_id=shop.pk)
    with transaction.atomic():
        persona = Persona.objects.filter(shop=shop, public_id=str(public_id)[:16]).first()
        if persona is None:
            raise NotFound(detail={"persona": str(public_id)[:16]})
        avatar = dict(persona.avatar or {})
        audit_record(
            shop_id=shop.pk, actor=actor, action="content.persona_delete", target=persona, data={"name": persona.name}
        )
        persona.delete()
        transaction.on_commit(lambda: images_discard([avatar] if avatar else []))
