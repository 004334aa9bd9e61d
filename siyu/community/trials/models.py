"""Trials (试用): the seller gives units of a product to shoppers who apply, and asks for a report.

A trial gives one unit of one SKU to each selected applicant, through an ordinary order priced at
zero (siyu.community.trials.pricing), so stock, shipping, the timeline and after-sales work as for
any order. The application row is the key of that order: `order` is set in the order's own
transaction and cleared again if the order is cancelled.

The report deadline is either a fixed date (`report_due_on`) or a number of days after the shopper
received the goods (`report_days`); it is computed when needed, never copied onto rows.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Address, Shopper
from siyu.catalog.models import Product, Sku
from siyu.community.reviews.models import Review
from siyu.customers.models import Segment
from siyu.orders.models import Order
from siyu.shops.models import Shop


class TrialStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for applications")
    SELECTING = "selecting", _("Selecting")
    RUNNING = "running", _("Running (reports due)")
    CLOSED = "closed", _("Closed")


class Trial(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    public_id = models.CharField(max_length=16, unique=True)
    title = models.CharField(max_length=60)
    description = models.CharField(max_length=1000, blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()  # units to give, one per selected shopper
    apply_starts_at = models.DateTimeField()
    apply_ends_at = models.DateTimeField()
    report_days = models.PositiveSmallIntegerField(null=True, blank=True)  # after receipt
    report_due_on = models.DateField(null=True, blank=True)  # or a fixed date (end of that day)
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # [{"id": "q1", "text": "...", "kind": "rating" | "text" | "both"}]
    questions = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=TrialStatus.choices, default=TrialStatus.DRAFT)
    selected_count = models.PositiveIntegerField(default=0)  # never above quantity (conditional UPDATE)
    application_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["shop", "status"], name="trial_shop_status"),
            models.Index(fields=["product", "status"], name="trial_product_status"),
        ]

    def __str__(self) -> str:
        return f"trial {self.public_id}"


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    SELECTED = "selected", _("Selected")
    NOT_SELECTED = "not_selected", _("Not selected")


class TrialApplication(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="applications")
    public_id = models.CharField(max_length=16, unique=True)
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    address = models.ForeignKey(Address, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True)  # why the shopper wants to try it
    status = models.CharField(max_length=12, choices=ApplicationStatus.choices, default=ApplicationStatus.APPLIED)
    selected_at = models.DateTimeField(null=True, blank=True)
    selected_by = models.CharField(max_length=60, blank=True)
    draw = models.ForeignKey("TrialDraw", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The zero-price order this application unlocked; set in the order's transaction, cleared on cancel.
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    orders_placed = models.PositiveSmallIntegerField(default=0)  # part of the order's idempotency key
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Once per shopper and trial, held by the database: two applications at once make one.
            models.UniqueConstraint(fields=["trial", "shopper"], name="trial_application_once"),
        ]
        indexes = [models.Index(fields=["shop", "shopper"], name="trial_app_shopper")]

    def __str__(self) -> str:
        return f"trial application {self.public_id}"


class TrialDraw(models.Model):
    """One random draw: who drew, when, the seed, the pool it drew from (in order) and the result.
    `random.Random(seed).sample(pool, count)` gives `winners` again: anyone can check it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="draws")
    seed = models.CharField(max_length=64)
    count = models.PositiveIntegerField()
    pool = models.JSONField(default=list)  # application public ids, by application id
    winners = models.JSONField(default=list)
    drawn_by = models.CharField(max_length=60)
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"draw {self.pk} of trial {self.trial_id}"


class TrialReport(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    public_id = models.CharField(max_length=16, unique=True)
    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="reports")
    # One report per application, held by the database.
    application = models.OneToOneField(TrialApplication, on_delete=models.CASCADE, related_name="report")
    rating = models.PositiveSmallIntegerField()  # overall, 1-5
    text = models.CharField(max_length=2000)
    photos = models.JSONField(default=list, blank=True)  # as reviews store them: [{"full", "thumb"}]
    answers = models.JSONField(default=list, blank=True)  # [{"id", "rating": int | None, "text": str}]
    submitted_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)  # the deadline it was judged against
    is_late = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=200, blank=True)
    review = models.OneToOneField(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"trial report {self.public_id}"

    @property
    def photo_urls(self) -> list[dict]:
        from siyu.community.reviews.photos import photo_urls

        return photo_urls(self.photos)
