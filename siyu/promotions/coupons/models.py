"""Coupons: the seller's definition (`Coupon`), each shopper's copy (`CouponGrant`) and the push of
one coupon to a saved segment (`CouponPush`, progress for the console)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.customers.models import Segment
from siyu.orders.models import Order
from siyu.shops.models import Shop


class CouponKind(models.TextChoices):
    AMOUNT_OFF = "amount_off", _("Amount off over a threshold")  # 满减券
    PERCENT_OFF = "percent_off", _("Percent off")  # 折扣券
    NO_THRESHOLD = "no_threshold", _("No-threshold coupon")  # 无门槛券
    FREE_SHIPPING = "free_shipping", _("Free shipping coupon")


class CouponScope(models.TextChoices):
    ALL = "all", _("All products")
    CATEGORIES = "categories", _("Some categories")
    PRODUCTS = "products", _("Some products")


class CouponStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class CouponRule(models.TextChoices):
    NONE = "", _("Claimed by shoppers")
    FIRST_ORDER = "first_order", _("Given after a first order is paid")
    BIRTHDAY = "birthday", _("Given on the customer's birthday")
    LEVEL_UP = "level_up", _("Given when a member level is reached")
    REFERRER = "referrer", _("Given to a customer whose referred friend's first order is final")
    REFEREE = "referee", _("Given to a referred friend once their first order is final")


class Coupon(models.Model):
    """What a coupon gives and to whom. Validity is either fixed dates (valid_from … valid_until)
    or `valid_days` after each claim. `claimed` counts every grant made (claims, pushes, rules);
    with a `total`, one conditional UPDATE keeps it within (the check constraint is the backstop)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="coupons")
    public_id = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=CouponKind.choices)
    amount_off = models.PositiveIntegerField(default=0)  # fen (amount_off, no_threshold)
    percent_off_bp = models.PositiveIntegerField(default=0)  # basis points off (percent_off)
    max_off = models.PositiveIntegerField(default=0)  # fen cap of a percent-off coupon; 0: none
    min_spend = models.PositiveIntegerField(default=0)  # fen threshold on the eligible items; 0: none
    scope = models.CharField(max_length=12, choices=CouponScope.choices, default=CouponScope.ALL)
    category_ids = models.JSONField(default=list, blank=True)
    product_ids = models.JSONField(default=list, blank=True)
    excluded_product_ids = models.JSONField(default=list, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    valid_days = models.PositiveIntegerField(null=True, blank=True)  # days after the claim instead of dates
    total = models.PositiveIntegerField(null=True, blank=True)  # None: unlimited
    claimed = models.PositiveIntegerField(default=0)
    per_customer = models.PositiveIntegerField(default=1)  # claims per shopper (centre and links)
    public = models.BooleanField(default=True)  # shown in the coupon centre; else link-only
    rule = models.CharField(max_length=12, choices=CouponRule.choices, blank=True, default="")
    status = models.CharField(max_length=10, choices=CouponStatus.choices, default=CouponStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "status", "public"], name="coupon_centre")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__isnull=True) | Q(claimed__lte=F("total")), name="coupon_claimed_within_total"
            ),
            models.CheckConstraint(condition=Q(percent_off_bp__lte=10000), name="coupon_percent_at_most_100"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left(self) -> int | None:
        return None if self.total is None else max(0, self.total - self.claimed)


class GrantSource(models.TextChoices):
    CENTRE = "centre", _("Coupon centre")
    LINK = "link", _("Claim link")
    SEGMENT = "segment", _("Pushed to a segment")
    FIRST_ORDER = "first_order", _("First order")
    BIRTHDAY = "birthday", _("Birthday")
    LEVEL_UP = "level_up", _("Member level up")
    REFERRAL = "referral", _("Referral reward")


class GrantStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    USED = "used", _("Used")
    EXPIRED = "expired", _("Expired")
    VOID = "void", _("Void")


class CouponGrant(models.Model):
    """One shopper's coupon. `slot` makes every grant path idempotent: claims take "c1", "c2", … up
    to the coupon's per-customer limit (two parallel claims of one slot: the unique constraint
    refuses the second), a push "push:<id>", a rule e.g. "first_order" or "birthday:2025".
    `order` is the order that used it (kept when a cancel returns it, so a late payment of that
    order can take it again)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="grants")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="coupon_grants")
    public_id = models.CharField(max_length=16, unique=True)  # the code a shopper picks at checkout
    slot = models.CharField(max_length=40)
    source = models.CharField(max_length=12, choices=GrantSource.choices)
    sharer_code = models.CharField(max_length=12, blank=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=GrantStatus.choices, default=GrantStatus.AVAILABLE)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["valid_until", "id"]
        constraints = [models.UniqueConstraint(fields=["coupon", "shopper", "slot"], name="coupon_grant_slot_unique")]
        indexes = [
            models.Index(fields=["shop", "shopper", "status", "valid_until"], name="coupon_grant_wallet"),
            models.Index(fields=["order"], name="coupon_grant_order"),
        ]

    def __str__(self) -> str:
        return self.public_id


class PushStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Stopped")


class CouponPush(models.Model):
    """Granting one coupon to every member of a saved segment, in batches by the worker."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="pushes")
    segment = models.ForeignKey(Segment, null=True, on_delete=models.SET_NULL, related_name="+")
    segment_name = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)  # members when it started
    done = models.PositiveIntegerField(default=0)  # members looked at
    granted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # already had it, never signed in, or none left
    last_customer_id = models.BigIntegerField(default=0)  # where the next batch starts
    note = models.CharField(max_length=200, blank=True)
    created_by = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)
