"""API operations for reviews (评价 / 买家秀).

Storefront (/api/v1/storefront/): a product's reviews (public, no sign-in; sensitive words masked,
hidden reviews left out), the signed-in shopper's lines waiting for a review, writing a review
(multipart, up to 9 photos) and its one follow-up. A line that is not the shopper's is 404; one not
received yet is 409 `review_not_received`; a second review is 409 `review_exists`; a second
follow-up is 409 `followup_exists`.

Console (/api/v1/console/, staff): list with filters (customers.view), reply / hide with a reason /
unhide / feature (customers.manage: service staff too), settings — photo-review points and the
sensitive-word list (catalog.manage).
"""

from datetime import datetime
from typing import Annotated

from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from siyu.community.reviews import selectors, services
from siyu.community.reviews.flags import review_flags
from siyu.community.reviews.models import Review
from siyu.community.reviews.photos import MAX_PHOTOS
from siyu.core.permissions import require

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, Id, In, PageIn, page_of
from .uploads import MB, refuse_oversized, upload_description

console_router = Router(tags=["console reviews"], auth=staff_auth)
storefront_router = Router(tags=["storefront reviews"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=20, pattern="^[A-Za-z0-9_-]+$")]
Word = Annotated[str, Field(min_length=1, max_length=services.MAX_WORD_LENGTH, pattern=NAME_PATTERN)]
PHOTO_LIMIT = 8 * MB


# --- schemas -------------------------------------------------------------------------------


class ReviewPhotoOut(Schema):
    full: str
    thumb: str


class ShopperReviewOut(Schema):
    id: str
    rating: int = Field(description="1 to 5 stars.")
    text: str = Field(description="Sensitive words masked with ＊.")
    author: str = Field(description="Display name, masked when anonymous.")
    anonymous: bool
    sku_label: str
    photos: list[ReviewPhotoOut]
    followup_text: str
    followup_photos: list[ReviewPhotoOut]
    followup_at: datetime | None
    reply_text: str = Field(description="The shop's reply, if any.")
    reply_at: datetime | None
    featured: bool
    refunded: bool = Field(description="The reviewed line was (partly) refunded: shown as 已退款.")
    created_at: datetime


class ProductReviewsOut(Schema):
    count: int
    average: float = Field(description="Average stars of all visible reviews, 1 decimal; 0 without reviews.")
    with_photos: int
    with_followups: int
    limit: int
    offset: int
    items: list[ShopperReviewOut]


class ProductReviewsIn(PageIn):
    show: str = Field("all", pattern="^(all|photos|followups)$", description="all, photos or followups.")


class ReviewableLineOut(Schema):
    order_id: str
    line_id: int
    product_id: str
    product_name: str
    sku_label: str
    received_at: datetime | None


class ReviewCreateForm(In):
    line_id: Id
    rating: int = Field(ge=1, le=5)
    text: str = Field("", max_length=services.MAX_TEXT)
    anonymous: bool = False


class ReviewFollowupForm(In):
    text: str = Field("", max_length=services.MAX_TEXT)


class ConsoleReviewOut(ShopperReviewOut):
    product_id: str
    product_name: str
    hidden: bool
    hidden_reason: str
    hidden_at: datetime | None
    points_state: str = Field(description="'' (no reward), granted or reversed.")
    points_granted: int


class ConsoleReviewPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConsoleReviewOut]


class ConsoleReviewFilterIn(PageIn):
    rating: int | None = Field(None, ge=1, le=5)
    photos: bool | None = None
    hidden: bool | None = None
    needs_reply: bool = False
    product: str = Field("", max_length=20, pattern="^[A-Za-z0-9_-]*$", description="A product's public id.")


class ReviewReplyIn(In):
    text: str = Field(min_length=1, max_length=services.MAX_TEXT, pattern=NAME_PATTERN)


class ReviewHideIn(In):
    reason: str = Field(min_length=1, max_length=services.MAX_REASON, pattern=NAME_PATTERN)


class ReviewFeatureIn(In):
    featured: bool


class ReviewSettingsOut(Schema):
    photo_points: int = Field(description="Points for a review with photos, once per review; 0 = off.")
    sensitive_words: list[str]


class ReviewSettingsIn(In):
    photo_points: int | None = Field(None, ge=0, le=services.MAX_PHOTO_POINTS)
    sensitive_words: list[Word] | None = Field(None, max_length=services.MAX_WORDS)


# --- shaping -------------------------------------------------------------------------------


def _shopper_view(review: Review, words: tuple[str, ...]) -> dict:
    shown = selectors.shown([review], words=words)[0]
    return {
        "id": review.public_id,
        "rating": review.rating,
        "text": shown.text,
        "author": review.author_name,
        "anonymous": review.anonymous,
        "sku_label": review.sku_label,
        "photos": review.photo_urls,
        "followup_text": shown.followup_text,
        "followup_photos": review.followup_photo_urls,
        "followup_at": review.followup_at,
        "reply_text": review.reply_text,
        "reply_at": review.reply_at,
        "featured": review.is_featured,
        "refunded": review.refunded,
        "created_at": review.created_at,
    }


def _staff_view(review: Review) -> dict:
    return {
        **_shopper_view(review, ()),
        "product_id": review.product.public_id,
        "product_name": review.product.name,
        "hidden": review.is_hidden,
        "hidden_reason": review.hidden_reason,
        "hidden_at": review.hidden_at,
        "points_state": review.points_state,
        "points_granted": review.points_granted,
    }


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/products/{product_id}/reviews", auth=None, response={200: ProductReviewsOut, **ERRORS})
def product_reviews(request, product_id: PublicId, q: Query[ProductReviewsIn]):
    """A product's visible reviews, featured first then newest (no sign-in needed)."""
    product = selectors.product_for_reviews(shop=request.shop, public_id=product_id)
    page = page_of(selectors.product_reviews(shop=request.shop, product=product, show=q.show), q)
    counts = selectors.product_review_counts(shop=request.shop, product=product)
    words = review_flags(shop_id=request.shop.pk).words
    return {
        "count": page["count"],
        "average": counts["mean"],
        "with_photos": counts["photos"],
        "with_followups": counts["followups"],
        "limit": page["limit"],
        "offset": page["offset"],
        "items": [_shopper_view(r, words) for r in page["items"]],
    }


@storefront_router.get("/reviews/reviewable", response={200: list[ReviewableLineOut], **ERRORS})
def reviewable(request):
    """Lines of the shopper's received orders that wait for a review (at most 100, newest first)."""
    lines = selectors.reviewable_lines(shop=request.shop, shopper=request.auth).select_related("product")[:100]
    return [
        {
            "order_id": ln.order.public_id,
            "line_id": ln.pk,
            "product_id": ln.product.public_id,
            "product_name": ln.product_name,
            "sku_label": ln.sku_label,
            "received_at": ln.order.received_at,
        }
        for ln in lines
    ]


def _photos(photos: list[UploadedFile] | None) -> list[UploadedFile]:
    return [refuse_oversized(p, limit=PHOTO_LIMIT, field="photos") for p in photos or []]


@storefront_router.post(
    "/reviews",
    response={201: ShopperReviewOut, **ERRORS},
    description=upload_description(
        f"Review one line of a received order: 1-5 stars, text, up to {MAX_PHOTOS} photos (JPEG, PNG or WebP; "
        "stored resized and without EXIF), optionally anonymous.",
        limit=PHOTO_LIMIT,
    ),
)
def review_create(request, form: Form[ReviewCreateForm], photos: File[list[UploadedFile] | None] = None):
    review = services.review_create(
        shop=request.shop,
        shopper=request.auth,
        line_id=form.line_id,
        rating=form.rating,
        text=form.text,
        photos=_photos(photos),
        anonymous=form.anonymous,
    )
    review = Review.objects.select_related("line").get(pk=review.pk)
    return Status(201, _shopper_view(review, review_flags(shop_id=request.shop.pk).words))


@storefront_router.post(
    "/reviews/{review_id}/follow-up",
    response={200: ShopperReviewOut, **ERRORS},
    description=upload_description(
        f"Add the one follow-up (追评) to your review: text and/or up to {MAX_PHOTOS} photos.", limit=PHOTO_LIMIT
    ),
)
def review_followup(
    request, review_id: PublicId, form: Form[ReviewFollowupForm], photos: File[list[UploadedFile] | None] = None
):
    review = services.review_followup(
        shop=request.shop, shopper=request.auth, public_id=review_id, text=form.text, photos=_photos(photos)
    )
    review = Review.objects.select_related("line").get(pk=review.pk)
    return _shopper_view(review, review_flags(shop_id=request.shop.pk).words)


# --- console -------------------------------------------------------------------------------


@console_router.get("/reviews", response={200: ConsoleReviewPage, **ERRORS})
def console_reviews(request, q: Query[ConsoleReviewFilterIn]):
    """Every review with its original text, newest first."""
    qs = selectors.reviews_for_staff(
        actor=request.auth,
        shop=request.shop,
        rating=q.rating,
        photos=q.photos,
        hidden=q.hidden,
        needs_reply=q.needs_reply,
        product=q.product,
    )
    page = page_of(qs, q)
    return {**page, "items": [_staff_view(r) for r in page["items"]]}


def _staff_answer(request, review: Review) -> dict:
    return _staff_view(selectors.review_for_staff(actor=request.auth, shop=request.shop, public_id=review.public_id))


@console_router.post("/reviews/{review_id}/reply", response={200: ConsoleReviewOut, **ERRORS})
def console_review_reply(request, review_id: PublicId, data: ReviewReplyIn):
    """Reply to a review (shown under it); replying again replaces the reply."""
    review = services.review_reply(actor=request.auth, shop=request.shop, public_id=review_id, text=data.text)
    return _staff_answer(request, review)


@console_router.post("/reviews/{review_id}/hide", response={200: ConsoleReviewOut, **ERRORS})
def console_review_hide(request, review_id: PublicId, data: ReviewHideIn):
    """Hide a review from shoppers; the reason is kept. A photo reward is taken back. 409 if hidden."""
    review = services.review_hide(actor=request.auth, shop=request.shop, public_id=review_id, reason=data.reason)
    return _staff_answer(request, review)


@console_router.post("/reviews/{review_id}/unhide", response={200: ConsoleReviewOut, **ERRORS})
def console_review_unhide(request, review_id: PublicId):
    """Show a hidden review again (409 if it is not hidden)."""
    review = services.review_unhide(actor=request.auth, shop=request.shop, public_id=review_id)
    return _staff_answer(request, review)


@console_router.post("/reviews/{review_id}/feature", response={200: ConsoleReviewOut, **ERRORS})
def console_review_feature(request, review_id: PublicId, data: ReviewFeatureIn):
    """Feature (精选) a review, shown first on the product page, or stop featuring it."""
    review = services.review_feature(actor=request.auth, shop=request.shop, public_id=review_id, featured=data.featured)
    return _staff_answer(request, review)


@console_router.get("/reviews/settings", response={200: ReviewSettingsOut, **ERRORS})
def console_review_settings(request):
    require(request.auth, selectors.VIEW, shop_id=request.shop.pk)
    return selectors.review_settings_get(shop=request.shop)


@console_router.put("/reviews/settings", response={200: ReviewSettingsOut, **ERRORS})
def console_review_settings_update(request, data: ReviewSettingsIn):
    """Change the photo-review points and/or the sensitive-word list (fields left out keep their value)."""
    return services.review_settings_update(actor=request.auth, shop=request.shop, data=data.dict(exclude_none=True))
