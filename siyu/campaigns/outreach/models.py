"""Campaigns: a saved segment snapshotted into recipients, a holdout never messaged, 1–4 variants.

One `CampaignRecipient` per customer of the audience is the campaign's message row: its group
(control, or the variant it was dealt), its tracked link code, and what sending it came to.
Status moves only through `CAMPAIGN` (siyu/campaigns/outreach/states.py).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.customers.models import Customer, Segment
from siyu.promotions.coupons.models import Coupon
from siyu.shops.models import Shop


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PREPARING = "preparing", _("Preparing")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CampaignTarget(models.TextChoices):
    HOME = "home", _("Shop home page")
    PRODUCT = "product", _("A product page")
    COUPON = "coupon", _("The coupon's claim page")


class RecipientStatus(models.TextChoices):
    CONTROL = "control", _("Control group (not messaged)")
    PENDING = "pending", _("Waiting to send")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


class Campaign(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="campaigns")
    public_id = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=60)
    segment = models.ForeignKey(Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    segment_name = models.CharField(max_length=40, blank=True)
    channel = models.CharField(max_length=12)
    holdout_bp = models.PositiveIntegerField(default=1000)  # share of the audience held out, basis points
    seed = models.CharField(max_length=32)  # deals holdout and variants; kept so the split can be re-derived
    target = models.CharField(max_length=10, choices=CampaignTarget.choices, default=CampaignTarget.HOME)
    target_ref = models.CharField(max_length=20, blank=True)  # the product's public id for "product"
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attribution_days = models.PositiveIntegerField(default=7)
    margin_bp = models.PositiveIntegerField(default=3000)  # used for ROI only where no SKU cost price is known
    scheduled_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # Audience snapshot: customers up to this id matching the segment when preparing began.
    audience_max_customer_id = models.BigIntegerField(default=0)
    last_customer_id = models.BigIntegerField(default=0)  # preparing's cursor
    prepared = models.PositiveIntegerField(default=0)
    control = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the worker's last batch
    send_started_at = models.DateTimeField(null=True, blank=True)  # the attribution window starts here
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "status"]), models.Index(fields=["status", "scheduled_at"])]

    def __str__(self) -> str:
        return self.name


class CampaignVariant(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    index = models.PositiveSmallIntegerField()  # 0..3, shown as A..D
    subject = models.CharField(max_length=80, blank=True)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["campaign", "index"], name="campaign_variant_unique")]

    @property
    def letter(self) -> str:
        return "ABCD"[self.index]


class CampaignRecipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(CampaignVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=16, unique=True)  # the tracked link /go/<code>/: random per recipient
    status = models.CharField(max_length=10, choices=RecipientStatus.choices, default=RecipientStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    cost_fen = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_recipient_unique")]
        indexes = [models.Index(fields=["campaign", "status", "id"], name="campaign_recipient_work")]


class CampaignClick(models.Model):
    """One follow of a tracked link (a recipient may click many times; `first_clicked_at` counts once)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(CampaignRecipient, on_delete=models.CASCADE, related_name="+")
    variant = models.ForeignKey(CampaignVariant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "at"])]
