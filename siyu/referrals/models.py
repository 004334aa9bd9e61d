"""Fission (裂变): who brought whom, and the rewards for bringing a friend who really buys."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.customers.models import Customer
from siyu.orders.models import Order
from siyu.shops.models import Shop


class ReferralSettings(models.Model):
    class RewardKind(models.TextChoices):
        POINTS = "points", _("Points")
        CREDIT = "credit", _("Store credit")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="referral_settings")
    enabled = models.BooleanField(default=True)
    window_days = models.PositiveIntegerField(default=30)  # how long a first-touch binding protects the sharer
    reward_kind = models.CharField(max_length=10, choices=RewardKind.choices, default=RewardKind.POINTS)
    referrer_reward = models.PositiveIntegerField(default=500)  # points, or fen of store credit
    referee_reward = models.PositiveIntegerField(default=300)


class ShareVisit(models.Model):
    """A visit that arrived through a share code (link, poster QR): the top of the fission funnel."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    code = models.CharField(max_length=12, db_index=True)
    visitor_key = models.CharField(max_length=64)  # a random id kept in the visitor's session
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL)
    path = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)


class ReferralBinding(models.Model):
    """A new customer bound to the person whose code brought them in (first touch, protected for a window)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    referee = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="referral_bindings")
    referrer_shopper = models.ForeignKey(
        Shopper, null=True, blank=True, on_delete=models.CASCADE, related_name="referrals_made"
    )
    referrer_staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE)
    code = models.CharField(max_length=12)
    bound_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "referee"], name="one_binding_per_referee"),
            models.CheckConstraint(
                condition=Q(referrer_shopper__isnull=False, referrer_staff__isnull=True)
                | Q(referrer_shopper__isnull=True, referrer_staff__isnull=False),
                name="binding_has_one_referrer",
            ),
        ]


class ReferralReward(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the return window")
        GRANTED = "granted", _("Granted")
        REVERSED = "reversed", _("Reversed")
        SKIPPED = "skipped", _("Not granted")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    binding = models.ForeignKey(ReferralBinding, on_delete=models.CASCADE, related_name="rewards")
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    beneficiary = models.ForeignKey(Customer, on_delete=models.CASCADE)
    role = models.CharField(max_length=10)  # referrer | referee
    kind = models.CharField(max_length=10)  # points | credit
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    grant_after = models.DateTimeField(null=True, blank=True)
    granted_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "role"], name="one_reward_per_order_role")]


class CreditEntry(models.Model):
    """Store credit ledger (fen): append-only; balance = sum, never negative."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit")
    delta = models.IntegerField()
    reason = models.CharField(max_length=20)
    ref = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
