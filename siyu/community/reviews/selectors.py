"""Reads of reviews: what shoppers see (visible reviews, masked words), what staff see (everything,
with the original text), and which lines a shopper may still review."""

from dataclasses import dataclass, field

from django.db.models import Avg, Case, Count, IntegerField, Q, QuerySet, Sum, Value, When, Window

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product
from siyu.core.errors import NotFound
from siyu.core.permissions import require
from siyu.orders.models import OrderLine, OrderStatus
from siyu.shops.models import Shop

from .flags import mask_words, review_flags
from .models import Review, ReviewSettings

VIEW, MODERATE, CONFIGURE = "customers.view", "customers.manage", "catalog.manage"
REVIEWABLE_STATUSES = (OrderStatus.COMPLETED, OrderStatus.CLOSED)
SHOW_CHOICES = ("all", "photos", "followups")


@dataclass
class ShownReview:
    """A review as shoppers see it: words masked, staff-only fields left out."""

    review: Review
    text: str
    followup_text: str
    reply_text: str

    def __getattr__(self, name):  # everything else reads through to the review
        return getattr(self.review, name)


@dataclass
class ReviewSummary:
    count: int = 0
    average: float = 0.0  # a rating, not money: 1 decimal for display
    photo_count: int = 0
    reviews: list[ShownReview] = field(default_factory=list)

    @property
    def gallery(self) -> list[dict]:
        """The 买家秀 strip: photos of the photo reviews shown, first ones first."""
        return [dict(p, review=r.public_id) for r in self.reviews for p in r.photo_urls + r.followup_photo_urls][:12]


def shown(reviews, *, words: tuple[str, ...]) -> list[ShownReview]:
    return [
        ShownReview(
            review=r,
            text=mask_words(r.text, words),
            followup_text=mask_words(r.followup_text, words),
            reply_text=r.reply_text,
        )
        for r in reviews
    ]


def _visible(*, shop: Shop, product: Product) -> QuerySet[Review]:
    return Review.objects.filter(shop=shop, product=product, is_hidden=False).select_related("line")


def product_review_summary(*, shop: Shop, product: Product, limit: int = 6) -> ReviewSummary | None:
    """Rating, count and the first reviews of a product page (featured, then photo reviews, then the
    latest): ONE query, with the count and average computed over all visible reviews by window
    functions; none at all (cached flag) when the shop has no visible review. None if no review."""
    flags = review_flags(shop_id=shop.pk)
    if not flags.has_reviews:
        return None
    photo = Case(When(has_photos=True, then=Value(1)), default=Value(0), output_field=IntegerField())
    rows = list(
        _visible(shop=shop, product=product)
        .annotate(
            total=Window(Count("pk")),
            mean=Window(Avg("rating")),
            photo_total=Window(Sum(photo)),
        )
        .order_by("-is_featured", "-has_photos", "-created_at", "-id")[:limit]
    )
    if not rows:
        return None
    first = rows[0]
    return ReviewSummary(
        count=first.total,
        average=round(float(first.mean or 0), 1),
        photo_count=int(first.photo_total or 0),
        reviews=shown(rows, words=flags.words),
    )


def product_reviews(*, shop: Shop, product: Product, show: str = "all") -> QuerySet[Review]:
    """The "all reviews" list (featured first, then newest); `show` is all, photos or followups."""
    qs = _visible(shop=shop, product=product)
    if show == "photos":
        qs = qs.filter(has_photos=True)
    elif show == "followups":
        qs = qs.filter(followup_at__isnull=False)
    return qs.order_by("-is_featured", "-created_at", "-id")


def product_review_counts(*, shop: Shop, product: Product) -> dict:
    """Counts for the filter tabs of the all-reviews page, one query."""
    row = _visible(shop=shop, product=product).aggregate(
        all=Count("pk"),
        photos=Count("pk", filter=Q(has_photos=True)),
        followups=Count("pk", filter=Q(followup_at__isnull=False)),
        mean=Avg("rating"),
    )
    row["mean"] = round(float(row["mean"] or 0), 1)
    return row


def reviewable_lines(*, shop: Shop, shopper: Shopper) -> QuerySet[OrderLine]:
    """Lines of the shopper's received orders not reviewed yet, most recently received first."""
    return (
        OrderLine.objects.filter(
            shop=shop,
            order__shopper=shopper,
            order__status__in=REVIEWABLE_STATUSES,
            order__received_at__isnull=False,
            review__isnull=True,
        )
        .select_related("order")
        .order_by("-order__received_at", "id")
    )


def my_reviews(*, shop: Shop, shopper: Shopper) -> QuerySet[Review]:
    return Review.objects.filter(shop=shop, shopper=shopper).select_related("line__order").order_by("-id")


def review_of_shopper(*, shop: Shop, shopper: Shopper, public_id: str) -> Review:
    found = Review.objects.filter(shop=shop, shopper=shopper, public_id=str(public_id)[:16]).first()
    if found is None:
        raise NotFound(detail={"review": str(public_id)[:16]})
    return found


def reviews_for_staff(
    *,
    actor,
    shop: Shop,
    rating: int | None = None,
    photos: bool | None = None,
    hidden: bool | None = None,
    needs_reply: bool = False,
    product: str = "",
) -> QuerySet[Review]:
    """Every review of the shop, original text, newest first, with the filters of the console list."""
    require(actor, VIEW, shop_id=shop.pk)
    qs = Review.objects.filter(shop=shop).select_related("line", "product")
    if rating:
        qs = qs.filter(rating=rating)
    if photos is not None:
        qs = qs.filter(has_photos=photos)
    if hidden is not None:
        qs = qs.filter(is_hidden=hidden)
    if needs_reply:
        qs = qs.filter(reply_at__isnull=True, is_hidden=False)
    if product:
        qs = qs.filter(product__public_id=str(product)[:20])
    return qs.order_by("-id")


def review_for_staff(*, actor, shop: Shop, public_id: str) -> Review:
    require(actor, VIEW, shop_id=shop.pk)
    found = Review.objects.filter(shop=shop, public_id=str(public_id)[:16]).select_related("line", "product").first()
    if found is None:
        raise NotFound(detail={"review": str(public_id)[:16]})
    return found


def review_settings_get(*, shop: Shop) -> ReviewSettings:
    return ReviewSettings.objects.filter(shop=shop).first() or ReviewSettings(shop=shop)


def product_for_reviews(*, shop: Shop, public_id: str) -> Product:
    """The product whose reviews are listed (any product shoppers may open: not a draft)."""
    found = Product.objects.filter(shop=shop, public_id=str(public_id)[:20]).exclude(status="draft").first()
    if found is None:
        raise NotFound(detail={"product": str(public_id)[:20]})
    return found


def line_of_shopper(*, shop: Shop, shopper: Shopper, order_public_id: str, line_id: int) -> OrderLine:
    """One line of the shopper's own order, with its review if any (one query)."""
    found = (
        OrderLine.objects.filter(
            shop=shop, pk=line_id, order__shopper=shopper, order__public_id=str(order_public_id)[:20]
        )
        .select_related("order", "review", "product")
        .first()
    )
    if found is None:
        raise NotFound(detail={"line": line_id})
    return found
