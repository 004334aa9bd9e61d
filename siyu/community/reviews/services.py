"""Writing reviews: the shopper's review and follow-up, the seller's reply, hide/unhide, feature,
and the shop's review settings.

Rules
- Only the shopper who owns an order may review its lines, once each, after receipt (the order is
  completed, or closed by a refund after receipt). The line's OneToOne key makes "once" hold under
  concurrency; the loser of a race gets 409 and its photos are deleted.
- One follow-up (追评) per review, claimed with one conditional UPDATE.
- Photos are re-encoded without metadata (siyu.core.images), so no EXIF/GPS is stored.
- Points for a photo review (ReviewSettings.photo_points, 0 = off) are granted once per review: the
  review row's `points_state` is the idempotency key, claimed by a conditional UPDATE. A review
  that only gets photos in its follow-up earns the reward then. Hiding a review takes the reward
  back (as much as the balance holds: a balance never goes negative); unhiding does not grant it
  again — the reward is for a review that stays up, and a seller who hid one by mistake adjusts the
  points by hand.

Locks, always in this order: the review row (rank REACTION), then the customer row (points).
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.crypto import mask_phone
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id as new_public_id
from siyu.core.permissions import require
from siyu.core.settings_rows import numbers_within, settings_row_get, settings_row_update, whole_number
from siyu.customers.models import CrmSettings, Customer, PointsEntry
from siyu.customers.stats import customer_for_shopper
from siyu.orders.models import OrderLine
from siyu.shops.models import Shop

from .flags import review_flags_forget
from .models import PointsState, Review, ReviewSettings
from .photos import photos_discard, photos_process, photos_store
from .selectors import CONFIGURE, MODERATE, REVIEWABLE_STATUSES, review_for_staff, review_of_shopper

MAX_TEXT = 500
MAX_REASON = 200
MAX_WORDS = 500
MAX_WORD_LENGTH = 20
MAX_PHOTO_POINTS = 100_000
REWARD, REWARD_BACK = "review", "review_reversed"  # PointsEntry reasons


def _text(value, *, field: str, limit: int = MAX_TEXT, required: bool = False) -> str:
    text = str(value if value is not None else "").strip()
    if len(text) > limit:
        raise InvalidInput(_("The text is too long."), detail={field: f"at most {limit} characters"})
    if required and not text:
        raise InvalidInput(detail={field: "required"})
    return text


def _rating(value) -> int:
    rating = whole_number(value)
    if rating is None or not 1 <= rating <= 5:
        raise InvalidInput(_("Give 1 to 5 stars."), detail={"rating": "1 to 5"})
    return rating


def _masked(name: str) -> str:
    """What an anonymous review shows of its author: the first and last character only."""
    name = name.strip()
    if len(name) <= 1:
        return f"{name}***"
    return f"{name[0]}***{name[-1]}"


def _author(shopper: Shopper, *, anonymous: bool) -> str:
    name = shopper.nickname.strip() or mask_phone(shopper.phone or "")
    return (_masked(shopper.nickname.strip() or (shopper.phone or "")) if anonymous else name)[:40]


def _line_to_review(*, shop: Shop, shopper: Shopper, line_id) -> OrderLine:
    number = whole_number(line_id)
    line = None
    if number is not None and number > 0:
        line = OrderLine.objects.filter(pk=number, shop=shop).select_related("order").first()
    if line is None or line.order.shopper_id != shopper.pk:
        raise NotFound(detail={"line": str(line_id)[:20]})
    if line.order.status not in REVIEWABLE_STATUSES or line.order.received_at is None:
        raise Conflict(_("You can review an item once you have received it."), code="review_not_received")
    if Review.objects.filter(line_id=line.pk).exists():
        raise Conflict(_("You have already reviewed this item."), code="review_exists")
    return line


def review_create(
    *,
    shop: Shop,
    shopper: Shopper,
    line_id: int,
    rating: int,
    text: str = "",
    photos: list | None = None,
    anonymous: bool = False,
    now: datetime | None = None,
) -> Review:
    """The shopper reviews one line of a received order. Locks: the review (for the reward), then
    the customer."""
    rating, text = _rating(rating), _text(text, field="text")
    line = _line_to_review(shop=shop, shopper=shopper, line_id=line_id)
    stored = photos_store(photos_process(photos))
    try:
        with transaction.atomic():
            review = Review.objects.create(
                shop=shop,
                public_id=new_public_id(16),
                line=line,
                order_id=line.order_id,
                product_id=line.product_id,
                shopper=shopper,
                sku_label=line.sku_label,
                rating=rating,
                text=text,
                photos=stored,
                has_photos=bool(stored),
                anonymous=bool(anonymous),
                author_name=_author(shopper, anonymous=bool(anonymous)),
            )
            _reward(review, now=now or timezone.now())
            review_flags_forget(shop_id=shop.pk)
    except IntegrityError:
        photos_discard(stored)
        raise Conflict(_("You have already reviewed this item."), code="review_exists") from None
    return review


def review_from_trial(
    *, shop: Shop, shopper: Shopper, line_id: int, rating: int, text: str, photos: list[dict]
) -> Review:
    """A trial report (siyu.community.trials) published as the review of its trial order's line:
    the same rules as `review_create` (the shopper's received line, once), the report's already
    stored photos reused, and no photo reward (the item was free). Locks: none (a new row)."""
    rating, text = _rating(rating), _text(text, field="text")
    line = _line_to_review(shop=shop, shopper=shopper, line_id=line_id)
    try:
        with transaction.atomic():
            review = Review.objects.create(
                shop=shop,
                public_id=new_public_id(16),
                line=line,
                order_id=line.order_id,
                product_id=line.product_id,
                shopper=shopper,
                sku_label=line.sku_label,
                rating=rating,
                text=text,
                photos=list(photos or []),
                has_photos=bool(photos),
                author_name=_author(shopper, anonymous=False),
            )
            review_flags_forget(shop_id=shop.pk)
    except IntegrityError:
        raise Conflict(_("You have already reviewed this item."), code="review_exists") from None
    return review


def review_followup(
    *, shop: Shop, shopper: Shopper, public_id: str, text: str = "", photos: list | None = None, now=None
) -> Review:
    """The one follow-up (追评) of a review: text and/or photos. Locks: the review, then the customer."""
    text = _text(text, field="text")
    review = review_of_shopper(shop=shop, shopper=shopper, public_id=public_id)
    if review.followup_at is not None:
        raise Conflict(_("You have already added a follow-up."), code="followup_exists")
    processed = photos_process(photos)
    if not text and not processed:
        raise InvalidInput(_("Write something or add a photo."), detail={"text": "required"})
    stored = photos_store(processed)
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Review.objects.filter(pk=review.pk, followup_at__isnull=True).update(
            followup_text=text, followup_photos=stored, followup_at=now, has_photos=review.has_photos or bool(stored)
        )
        if not claimed:
            transaction.on_commit(lambda: photos_discard(stored))
            raise Conflict(_("You have already added a follow-up."), code="followup_exists")
        review.refresh_from_db()
        _reward(review, now=now)
        review_flags_forget(shop_id=shop.pk)
    return review


# --- points ------------------------------------------------------------------------------------


def _customer_locked(review: Review) -> Customer:
    customer = customer_for_shopper(shop=review.shop, shopper=review.shopper)
    return Customer.objects.select_for_update().get(pk=customer.pk)


def _reward(review: Review, *, now: datetime) -> None:
    """Grant the photo-review points once (the caller holds a transaction)."""
    points = settings_row_get(ReviewSettings, shop_id=review.shop_id).photo_points
    if not review.has_photos or review.is_hidden or points <= 0:
        return
    locks.lock_one(Review.objects.filter(pk=review.pk), rank=locks.REACTION)
    claimed = Review.objects.filter(pk=review.pk, points_state=PointsState.NONE).update(
        points_state=PointsState.GRANTED, points_granted=points
    )
    if not claimed:
        return
    customer = _customer_locked(review)
    valid_days = settings_row_get(CrmSettings, shop_id=review.shop_id).points_valid_days
    PointsEntry.objects.create(
        shop_id=review.shop_id,
        customer=customer,
        delta=points,
        reason=REWARD,
        expires_at=now + timedelta(days=valid_days),
    )
    review.points_state, review.points_granted = PointsState.GRANTED, points


def _reward_back(review: Review) -> int:
    """Take a granted reward back, never below a zero balance. Caller holds the review's lock."""
    claimed = Review.objects.filter(pk=review.pk, points_state=PointsState.GRANTED).update(
        points_state=PointsState.REVERSED
    )
    if not claimed:
        return 0
    customer = _customer_locked(review)
    balance = PointsEntry.objects.filter(customer_id=customer.pk).aggregate(t=Coalesce(Sum("delta"), 0))["t"]
    taken = min(review.points_granted, max(balance, 0))
    if taken:
        PointsEntry.objects.create(shop_id=review.shop_id, customer=customer, delta=-taken, reason=REWARD_BACK)
    review.points_state = PointsState.REVERSED
    return taken


# --- the seller --------------------------------------------------------------------------------


def _locked(*, actor, shop: Shop, public_id: str) -> Review:
    require(actor, MODERATE, shop_id=shop.pk)
    found = review_for_staff(actor=actor, shop=shop, public_id=public_id)
    locked = locks.lock_one(
        Review.objects.filter(pk=found.pk).select_related("line", "product", "shop", "shopper"), rank=locks.REACTION
    )
    if locked is None:
        raise NotFound(detail={"review": str(public_id)[:16]})
    return locked


def review_reply(*, actor, shop: Shop, public_id: str, text: str, now=None) -> Review:
    """The shop's one reply, shown under the review; replying again replaces it (audited)."""
    text = _text(text, field="text", required=True)
    with transaction.atomic():
        review = _locked(actor=actor, shop=shop, public_id=public_id)
        before = review.reply_text
        review.reply_text, review.reply_at = text, now or timezone.now()
        review.reply_by = str(getattr(actor, "display_name", "") or "")[:60]
        review.save(update_fields=["reply_text", "reply_at", "reply_by"])
        audit_record(
            shop_id=shop.pk, actor=actor, action="review.reply", target=review, data={"from": before, "to": text}
        )
    return review


def review_hide(*, actor, shop: Shop, public_id: str, reason: str, now=None) -> Review:
    """Hide a review from shoppers; the reason is kept on the review and in the audit log. A photo
    reward is taken back (see the module docstring)."""
    reason = _text(reason, field="reason", limit=MAX_REASON, required=True)
    with transaction.atomic():
        review = _locked(actor=actor, shop=shop, public_id=public_id)
        if review.is_hidden:
            raise Conflict(_("This review is already hidden."), code="review_hidden")
        review.is_hidden, review.hidden_reason, review.hidden_at = True, reason, now or timezone.now()
        review.save(update_fields=["is_hidden", "hidden_reason", "hidden_at"])
        taken = _reward_back(review)
        audit_record(
            shop_id=shop.pk, actor=actor, action="review.hide", target=review, data={"reason": reason, "points": -taken}
        )
        review_flags_forget(shop_id=shop.pk)
    return review


def review_unhide(*, actor, shop: Shop, public_id: str) -> Review:
    """Show a hidden review again. The hiding reason stays on the review (and in the audit log)."""
    with transaction.atomic():
        review = _locked(actor=actor, shop=shop, public_id=public_id)
        if not review.is_hidden:
            raise Conflict(_("This review is not hidden."), code="review_visible")
        review.is_hidden = False
        review.save(update_fields=["is_hidden"])
        audit_record(
            shop_id=shop.pk, actor=actor, action="review.unhide", target=review, data={"reason": review.hidden_reason}
        )
        review_flags_forget(shop_id=shop.pk)
    return review


def review_feature(*, actor, shop: Shop, public_id: str, featured: bool) -> Review:
    """精选: featured reviews come first on the product page."""
    with transaction.atomic():
        review = _locked(actor=actor, shop=shop, public_id=public_id)
        if review.is_featured != bool(featured):
            review.is_featured = bool(featured)
            review.save(update_fields=["is_featured"])
            audit_record(
                shop_id=shop.pk, actor=actor, action="review.feature", target=review, data={"featured": bool(featured)}
            )
    return review


# --- settings ----------------------------------------------------------------------------------


def _words(value, errors: dict) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", "\n").replace(",", "\n").splitlines()
    if not isinstance(value, list | tuple):
        errors["sensitive_words"] = "a list of words is expected"
        return []
    words: list[str] = []
    for item in value:
        word = str(item if item is not None else "").strip()
        if len(word) > MAX_WORD_LENGTH:
            errors["sensitive_words"] = f"each word at most {MAX_WORD_LENGTH} characters"
        elif word and word.lower() not in {w.lower() for w in words}:
            words.append(word)
    if len(words) > MAX_WORDS:
        errors["sensitive_words"] = f"at most {MAX_WORDS} words"
    return words


def review_settings_update(*, actor, shop: Shop, data: dict) -> ReviewSettings:
    """Change the photo reward and/or the sensitive-word list (fields left out keep their value)."""

    def clean(current: ReviewSettings, values: dict) -> dict:
        errors: dict = {}
        cleaned: dict = numbers_within(
            current=current, data=values, limits={"photo_points": (0, MAX_PHOTO_POINTS)}, errors=errors
        )
        if "sensitive_words" in values:
            cleaned["sensitive_words"] = _words(values["sensitive_words"], errors)
        if errors:
            raise InvalidInput(detail=errors)
        return cleaned

    with transaction.atomic():
        row = settings_row_update(
            ReviewSettings,
            actor=actor,
            shop_id=shop.pk,
            perm=CONFIGURE,
            clean=clean,
            data=data,
            action="reviews.settings",
        )
        review_flags_forget(shop_id=shop.pk)
    return row
