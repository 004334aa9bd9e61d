"""API operations for the content library (素材库).

Console (/api/v1/console/, staff; reading promotions.view, writing promotions.manage): posts with
their figures (list, one, create with images as multipart, change as JSON, add/remove images,
schedule, delete) and personas (list, one, create/change as multipart with an optional avatar,
delete). More than 9 images sent at once is 400 `too_many_images`, more than a post has room for
(a product poster counts as one) 409 `too_many_images`; a file that is not a JPEG/PNG/WebP image
within limits is 400 `bad_image`; a file over 8 MB is 413.

Storefront (/api/v1/storefront/, signed-in shopper): today's posts with the links carrying the
shopper's share code, and recording a share (a tap of copy or save).
"""

from datetime import datetime
from typing import Annotated, Literal

from django.urls import reverse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from siyu.community.content import selectors, services, tracking
from siyu.community.content.images import MAX_IMAGES
from siyu.community.content.models import Persona, Post
from siyu.core.errors import NotFound
from siyu.core.images import MAX_UPLOAD_BYTES

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, In, PageIn, page_of
from .uploads import refuse_oversized, upload_description

console_router = Router(tags=["console content"], auth=staff_auth)
storefront_router = Router(tags=["storefront content"], auth=shopper_auth)

Code = Annotated[str, Field(min_length=1, max_length=16, pattern="^[A-Za-z0-9_-]+$")]
Tag = Annotated[str, Field(min_length=1, max_length=services.MAX_TAG, pattern=NAME_PATTERN)]


def _files_at_most(name: str, most: int) -> dict:
    """The document says how many files the part takes (ninja's generated schema has no maxItems)."""
    part = {"schema": {"properties": {name: {"maxItems": most}}}}
    return {"requestBody": {"content": {"multipart/form-data": part}}}


_LIMITS = (
    f"Images: JPEG, PNG or WebP, at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB and 64 to 8000 pixels a side, "
    f"re-encoded without EXIF; at most {MAX_IMAGES} a post, a product poster counting as one (more files "
    "than that in one request: 400 too_many_images; more than the post has room for: 409 too_many_images; "
    "a poster without a product: 409 poster_needs_product); a file that is not such an image is 400 bad_image. "
    "A product, persona or account that is not the shop's is 404; scheduling a post with neither text nor an "
    "image is 409 post_empty."
)


# --- schemas -------------------------------------------------------------------------------


class ContentImageOut(Schema):
    full: str
    thumb: str


class ContentPostOut(Schema):
    code: str = Field(description="The post's code, in its link /m/<code>/.")
    title: str
    text: str
    images: list[ContentImageOut]
    product_id: str | None
    poster: bool = Field(description="The product's share poster is shown as one more image.")
    campaign: str
    tags: list[str]
    persona_id: str | None
    publish_at: datetime | None = Field(description="None: a draft.")
    shares: int = Field(description="Taps of copy or save by sharers.")
    clicks: int = Field(description="Openings of the post's link.")
    visits: int = Field(description="Visitors (browser sessions) who opened it.")
    orders: int = Field(description="Orders placed within 7 days of a visit.")
    paid_orders: int
    revenue: int = Field(description="Fen: paid minus refunded, of those orders.")


class ContentPostPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ContentPostOut]


class ContentPostFilterIn(PageIn):
    persona: str = Field("", max_length=16, pattern="^[A-Za-z0-9_-]*$")
    tag: str = Field("", max_length=20)
    q: str = Field("", max_length=50)
    scheduled: Literal["", "draft", "upcoming", "past"] = ""


class ContentPostForm(In):
    title: str = Field("", max_length=services.MAX_TITLE)
    text: str = Field("", max_length=services.MAX_TEXT)
    product_id: str = Field("", max_length=20, pattern="^[A-Za-z0-9_-]*$")
    poster: bool = False
    campaign: str = Field("", max_length=services.MAX_CAMPAIGN)
    tags: str = Field("", max_length=300, description="Comma-separated free tags.")
    persona_id: str = Field("", max_length=16, pattern="^[A-Za-z0-9_-]*$")
    publish_at: datetime | None = None


class ContentPostPatchIn(In):
    title: str | None = Field(None, max_length=services.MAX_TITLE)
    text: str | None = Field(None, max_length=services.MAX_TEXT)
    product_id: str | None = Field(None, max_length=20, pattern="^[A-Za-z0-9_-]*$", description="'' for none.")
    poster: bool | None = None
    campaign: str | None = Field(None, max_length=services.MAX_CAMPAIGN)
    tags: list[Tag] | None = Field(None, max_length=services.MAX_TAGS)
    persona_id: str | None = Field(None, max_length=16, pattern="^[A-Za-z0-9_-]*$", description="'' for none.")


class ContentScheduleIn(In):
    publish_at: datetime | None = Field(description="When it joins that day's list; null makes it a draft.")


class ContentPersonaOut(Schema):
    id: str
    name: str
    tone: str
    avatar: ContentImageOut | None
    account_id: int | None = Field(description="The social account (WeChat) this persona is, if linked.")
    planned: int = Field(description="Posts scheduled from today on.")
    drafts: int


class ContentPersonaForm(In):
    name: str = Field(max_length=services.MAX_NAME, pattern=NAME_PATTERN)
    tone: str = Field("", max_length=services.MAX_TONE)
    account_id: int | None = Field(None, ge=1, le=2**53 - 1)


class ContentPersonaPatchForm(In):
    name: str | None = Field(None, max_length=services.MAX_NAME, pattern=NAME_PATTERN)
    tone: str | None = Field(None, max_length=services.MAX_TONE)
    account_id: int | None = Field(None, ge=0, le=2**53 - 1, description="0 unlinks the account.")


class ContentTodayOut(Schema):
    code: str
    text: str
    copy_text: str = Field(description="The text followed by the link: what the copy button copies.")
    link: str = Field(description="The post's link with the shopper's share code.")
    images: list[ContentImageOut]
    poster: str | None = Field(description="The product poster's URL (its QR code is the link), if any.")
    publish_at: datetime
    due: bool = Field(description="Its time has come (later posts of the day are listed too).")


class ContentShareIn(In):
    kind: Literal["copy", "save"]


class ContentShareOut(Schema):
    kind: str


# --- shaping -------------------------------------------------------------------------------


def _post_out(post: Post) -> dict:
    return {
        "code": post.code,
        "title": post.title,
        "text": post.text,
        "images": post.image_urls,
        "product_id": post.product.public_id if post.product else None,
        "poster": post.poster,
        "campaign": post.campaign,
        "tags": post.tags,
        "persona_id": post.persona.public_id if post.persona else None,
        "publish_at": post.publish_at,
        # with_figures() annotations, read by name: the model class does not declare them
        **{name: getattr(post, f"n_{name}") for name in ("shares", "clicks", "visits", "orders", "paid_orders")},
        "revenue": getattr(post, "revenue"),  # noqa: B009
    }


def _reread(request, post: Post) -> dict:
    return _post_out(selectors.post_for_staff(actor=request.auth, shop=request.shop, code=post.code))


def _images(files: list[UploadedFile] | None) -> list[UploadedFile]:
    return [refuse_oversized(f, limit=MAX_UPLOAD_BYTES, field="images") for f in files or []]


def _persona_out(persona: Persona, *, planned: int = 0, drafts: int = 0) -> dict:
    return {
        "id": persona.public_id,
        "name": persona.name,
        "tone": persona.tone,
        "avatar": persona.avatar_urls or None,
        "account_id": persona.account_id,
        "planned": getattr(persona, "planned", planned),
        "drafts": getattr(persona, "drafts", drafts),
    }


# --- console: posts ------------------------------------------------------------------------


@console_router.get("/content/posts", response={200: ContentPostPage, **ERRORS})
def content_posts(request, q: Query[ContentPostFilterIn]):
    """The shop's posts with their figures, drafts first, then the latest publish time."""
    qs = selectors.posts_for_staff(
        actor=request.auth, shop=request.shop, persona=q.persona, tag=q.tag, q=q.q, scheduled=q.scheduled
    )
    page = page_of(qs, q)
    return {**page, "items": [_post_out(p) for p in page["items"]]}


@console_router.post(
    "/content/posts",
    response={201: ContentPostOut, **ERRORS},
    openapi_extra=_files_at_most("images", MAX_IMAGES),
    description=upload_description(f"Create a post (a draft without publish_at). {_LIMITS}", limit=MAX_UPLOAD_BYTES),
)
def content_post_create(request, form: Form[ContentPostForm], images: File[list[UploadedFile] | None] = None):
    data = {
        "title": form.title,
        "text": form.text,
        "product": form.product_id,
        "poster": form.poster,
        "campaign": form.campaign,
        "tags": form.tags,
        "persona": form.persona_id,
        "publish_at": form.publish_at,
    }
    post = services.post_create(actor=request.auth, shop=request.shop, data=data, images=_images(images))
    return Status(201, _reread(request, post))


@console_router.get("/content/posts/{code}", response={200: ContentPostOut, **ERRORS})
def content_post(request, code: Code):
    return _post_out(selectors.post_for_staff(actor=request.auth, shop=request.shop, code=code))


@console_router.patch("/content/posts/{code}", response={200: ContentPostOut, **ERRORS})
def content_post_update(request, code: Code, data: ContentPostPatchIn):
    """Change a post's fields (those sent; images through their own operations)."""
    given = data.dict(exclude_none=True)
    renamed = {"product_id": "product", "persona_id": "persona"}
    post = services.post_update(
        actor=request.auth, shop=request.shop, code=code, data={renamed.get(k, k): v for k, v in given.items()}
    )
    return _reread(request, post)


@console_router.post(
    "/content/posts/{code}/images",
    response={200: ContentPostOut, **ERRORS},
    openapi_extra=_files_at_most("images", MAX_IMAGES),
    description=upload_description(f"Add images at the end of a post. {_LIMITS}", limit=MAX_UPLOAD_BYTES),
)
def content_post_images_add(request, code: Code, images: File[list[UploadedFile] | None] = None):
    post = services.post_update(actor=request.auth, shop=request.shop, code=code, data={}, add_images=_images(images))
    return _reread(request, post)


@console_router.delete("/content/posts/{code}/images/{index}", response={200: ContentPostOut, **ERRORS})
def content_post_image_remove(request, code: Code, index: Annotated[int, Field(ge=0, le=MAX_IMAGES)]):
    """Remove one image by its position (0-based, as listed); the others keep their order."""
    post = selectors.post_for_staff(actor=request.auth, shop=request.shop, code=code)
    if index >= len(post.images):
        raise NotFound(detail={"index": index})
    post = services.post_update(actor=request.auth, shop=request.shop, code=code, data={}, remove_images=[index])
    return _reread(request, post)


@console_router.post("/content/posts/{code}/schedule", response={200: ContentPostOut, **ERRORS})
def content_post_schedule(request, code: Code, data: ContentScheduleIn):
    """Put the post on a day's list at a time (or back to the drafts with null)."""
    post = services.post_schedule(actor=request.auth, shop=request.shop, code=code, publish_at=data.publish_at)
    return _reread(request, post)


@console_router.delete("/content/posts/{code}", response={204: None, **ERRORS})
def content_post_delete(request, code: Code):
    """Take the post off every list; its figures stay and a link already shared still leads to the shop."""
    services.post_delete(actor=request.auth, shop=request.shop, code=code)
    return Status(204, None)


# --- console: personas ---------------------------------------------------------------------


@console_router.get("/content/personas", response={200: list[ContentPersonaOut], **ERRORS})
def content_personas(request):
    return [_persona_out(p) for p in selectors.personas_for_staff(actor=request.auth, shop=request.shop)[:200]]


def _persona_answer(request, public_id: str) -> dict:
    found = selectors.personas_for_staff(actor=request.auth, shop=request.shop).filter(public_id=public_id).first()
    return _persona_out(found) if found else {}


@console_router.post(
    "/content/personas",
    response={201: ContentPersonaOut, **ERRORS},
    description=upload_description("Create a persona, with an optional avatar image.", limit=MAX_UPLOAD_BYTES),
)
def content_persona_create(request, form: Form[ContentPersonaForm], avatar: File[UploadedFile | None] = None):
    if avatar is not None:
        refuse_oversized(avatar, limit=MAX_UPLOAD_BYTES, field="avatar")
    data = {"name": form.name, "tone": form.tone, "account": form.account_id}
    persona = services.persona_create(actor=request.auth, shop=request.shop, data=data, avatar=avatar)
    return Status(201, _persona_answer(request, persona.public_id))


@console_router.get("/content/personas/{persona_id}", response={200: ContentPersonaOut, **ERRORS})
def content_persona(request, persona_id: Code):
    selectors.persona_for_staff(actor=request.auth, shop=request.shop, public_id=persona_id)
    return _persona_answer(request, persona_id)


@console_router.post(
    "/content/personas/{persona_id}",
    response={200: ContentPersonaOut, **ERRORS},
    description=upload_description(
        "Change a persona: the fields sent, and/or a new avatar image.", limit=MAX_UPLOAD_BYTES
    ),
)
def content_persona_update(
    request, persona_id: Code, form: Form[ContentPersonaPatchForm], avatar: File[UploadedFile | None] = None
):
    if avatar is not None:
        refuse_oversized(avatar, limit=MAX_UPLOAD_BYTES, field="avatar")
    data: dict[str, object] = {k: v for k, v in {"name": form.name, "tone": form.tone}.items() if v is not None}
    if form.account_id is not None:
        data["account"] = form.account_id or None
    services.persona_update(actor=request.auth, shop=request.shop, public_id=persona_id, data=data, avatar=avatar)
    return _persona_answer(request, persona_id)


@console_router.delete("/content/personas/{persona_id}", response={204: None, **ERRORS})
def content_persona_delete(request, persona_id: Code):
    """Remove a persona; its posts stay, without one."""
    services.persona_delete(actor=request.auth, shop=request.shop, public_id=persona_id)
    return Status(204, None)


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/content/today", response={200: list[ContentTodayOut], **ERRORS})
def content_today(request):
    """Today's posts to share, each link carrying the signed-in shopper's share code."""
    ref, now = request.auth.share_code, timezone.now()
    out = []
    for post in selectors.posts_of_day(shop=request.shop):
        link = request.build_absolute_uri(reverse("storefront:content_post", args=[post.code])) + f"?ref={ref}"
        poster = None
        if post.poster and post.product_id:
            poster = request.build_absolute_uri(reverse("storefront:content_poster", args=[post.code])) + f"?ref={ref}"
        out.append(
            {
                "code": post.code,
                "text": post.text,
                "copy_text": selectors.copy_text(post, link),
                "link": link,
                "images": post.image_urls,
                "poster": poster,
                "publish_at": post.publish_at,
                "due": post.publish_at <= now if post.publish_at else False,
            }
        )
    return out


@storefront_router.post("/content/posts/{code}/shares", response={201: ContentShareOut, **ERRORS})
def content_share(request, code: Code, data: ContentShareIn):
    """Record one share of a scheduled post (the shopper tapped copy or save)."""
    share = tracking.post_share_record(shop=request.shop, code=code, kind=data.kind, shopper=request.auth)
    return Status(201, {"kind": share.kind})
