"""Reviews (评价 / 买家秀): one per order line, written by the shopper who received it.

Photos, the follow-up (追评) and the seller's reply live on the review row itself (photos as a list
of stored file names), so that a product page reads a review with everything it shows in one row:
the product panel costs one query. Whether a review's line was refunded is read from the line
(`refunded_quantity`), never copied, so it cannot go stale.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product
from siyu.orders.models import Order, OrderLine
from siyu.shops.models import Shop


class PointsState(models.TextChoices):
    NONE = "", _("No reward")
    GRANTED = "granted", _("Reward granted")
    REVERSED = "reversed", _("Reward taken back")


class Review(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    public_id = models.CharField(max_length=16, unique=True)
    # One review per order line, held by the database: two submissions at once make one review.
    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="review")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    sku_label = models.CharField(max_length=200, blank=True)
    rating = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=500, blank=True)
    photos = models.JSONField(default=list, blank=True)  # [{"full": name, "thumb": name}] in storage
    has_photos = models.BooleanField(default=False)
    anonymous = models.BooleanField(default=False)
    author_name = models.CharField(max_length=40)  # already masked: what shoppers see
    followup_text = models.CharField(max_length=500, blank=True)
    followup_photos = models.JSONField(default=list, blank=True)
    followup_at = models.DateTimeField(null=True, blank=True)
    reply_text = models.CharField(max_length=500, blank=True)
    reply_at = models.DateTimeField(null=True, blank=True)
    reply_by = models.CharField(max_length=60, blank=True)
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=200, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    is_featured = models.BooleanField(default=False)
    points_state = models.CharField(max_length=10, choices=PointsState.choices, default="", blank=True)
    points_granted = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["product", "is_hidden", "is_featured", "has_photos", "created_at"], name="review_product_page"
            ),
            models.Index(fields=["shop", "created_at"], name="review_shop_recent"),
        ]

    def __str__(self) -> str:
        return f"review {self.public_id}"

    @property
    def refunded(self) -> bool:
        """Marked "已退款" once any of the line was refunded (select_related("line") when listing)."""
        return self.line.refunded_quantity > 0

    @property
    def photo_urls(self) -> list[dict]:
        from .photos import photo_urls

        return photo_urls(self.photos)

    @property
    def followup_photo_urls(self) -> list[dict]:
        from .photos import photo_urls

        return photo_urls(self.followup_photos)


class ReviewSettings(models.Model):
    """A shop's review rules: the points reward for a photo review and the sensitive-word list."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="review_settings")
    photo_points = models.PositiveIntegerField(default=0)  # points per photo review; 0 = no reward
    sensitive_words = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"review settings of shop {self.shop_id}"
