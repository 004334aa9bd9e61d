"""Journeys: triggered campaigns. A journey watches for one kind of moment in a customer's life
(joining, a first order without a second, lapsing, a birthday, an abandoned cart, a product running
out), waits its delay, and messages the customer — or holds them out, at random, to measure it.

One `JourneyEnrolment` per journey × customer × occasion (the occasion names the moment: the
first order's time, the birthday's year, the cart's date…) is both the record of the random deal
(holdout or the variant) and the message row. The unique key is what makes a customer enter a
journey once per occasion, however many workers look at the same moment.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.customers.models import Customer
from siyu.promotions.coupons.models import Coupon
from siyu.shops.models import Shop


class JourneyKind(models.TextChoices):
    WELCOME = "welcome", _("Welcome a new customer")
    SECOND_ORDER = "second_order", _("Second-order nudge")
    WINBACK = "winback", _("Win back lapsing customers")
    BIRTHDAY = "birthday", _("Birthday")
    ABANDONED_CART = "abandoned_cart", _("Abandoned cart")
    REPURCHASE = "repurchase", _("Repurchase reminder")


class JourneyTarget(models.TextChoices):
    HOME = "home", _("Shop home page")
    PRODUCT = "product", _("A product page")
    COUPON = "coupon", _("The coupon's claim page")


class EnrolmentStatus(models.TextChoices):
    HOLDOUT = "holdout", _("Held out (not messaged)")
    PENDING = "pending", _("Waiting to send")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    REFUSED = "refused", _("Refused")


class Journey(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="journeys")
    public_id = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=16, choices=JourneyKind.choices)
    # Hours to wait after the moment (joining, first order, last cart line, birthday midnight).
    delay_hours = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=12, default="sms")
    holdout_bp = models.PositiveIntegerField(default=1000)  # share held out, basis points
    target = models.CharField(max_length=10, choices=JourneyTarget.choices, default=JourneyTarget.HOME)
    target_ref = models.CharField(max_length=20, blank=True)
    coupon = models.ForeignKey(Coupon, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attribution_days = models.PositiveIntegerField(default=7)
    margin_bp = models.PositiveIntegerField(default=3000)  # ROI's margin where no SKU cost price is known
    active = models.BooleanField(default=False)
    # When it was last switched on: moments older than this (less a day's grace) are not caught up.
    active_since = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["active", "shop"])]

    def __str__(self) -> str:
        return self.name


class JourneyVariant(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="variants")
    index = models.PositiveSmallIntegerField()  # 0..3, shown as A..D
    subject = models.CharField(max_length=80, blank=True)
    text = models.CharField(max_length=500)

    class Meta:
        ordering = ["index"]
        constraints = [models.UniqueConstraint(fields=["journey", "index"], name="journey_variant_unique")]

    @property
    def letter(self) -> str:
        return "ABCD"[self.index]


class JourneyEnrolment(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="enrolments")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    occasion = models.CharField(max_length=40)
    detail = models.CharField(max_length=60, blank=True)  # the {product} merge field, where there is one
    variant = models.ForeignKey(JourneyVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(max_length=16, unique=True)  # tracked link /j/<code>/
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.PENDING)
    enrolled_at = models.DateTimeField()  # the attribution window starts here, for both groups
    attributed_until = models.DateTimeField()  # fixed at enrolment from the journey's window
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=16, blank=True)  # the sender that holds the row while "sending"
    claimed_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    cost_fen = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journey", "customer", "occasion"], name="journey_enrolment_once")
        ]
        indexes = [models.Index(fields=["journey", "status", "id"], name="journey_enrolment_work")]
