"""Compliant distribution (分销): promoters earn commission on real retail sales only.

No stock, no entry fee, no reward for recruiting; one tier by default and two at most.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.catalog.models import Category, Product, Sku
from siyu.core.crypto import EncryptedTextField
from siyu.orders.models import Order, OrderLine
from siyu.shops.models import Shop


class DistributionSettings(models.Model):
    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="distribution_settings")
    enabled = models.BooleanField(default=True)
    tiers = models.PositiveSmallIntegerField(default=1)  # 1 or 2; anything else is refused
    default_rate_bp = models.PositiveIntegerField(default=1000)
    second_tier_rate_bp = models.PositiveIntegerField(default=0)
    freeze_days = models.PositiveIntegerField(default=7)  # after receipt + return window
    min_withdrawal = models.PositiveIntegerField(default=1000)  # fen
    second_approval_over = models.PositiveIntegerField(default=100000)  # fen

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(tiers__gte=1, tiers__lte=2), name="at_most_two_tiers"),
            models.CheckConstraint(
                condition=Q(default_rate_bp__lte=5000, second_tier_rate_bp__lte=2000), name="commission_rates_capped"
            ),
        ]


class Promoter(models.Model):
    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="promoters")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="promoter_profiles")
    # Who introduced this promoter (for the optional second tier). Earns nothing for the introduction itself.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.APPLIED)
    real_name = EncryptedTextField()
    id_number = EncryptedTextField()
    id_number_hash = models.CharField(max_length=64)
    payout_kind = models.CharField(max_length=10, default="wechat")  # wechat | alipay | bank
    payout_account = EncryptedTextField()
    applied_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopper"], name="one_promoter_per_shopper")]


class CommissionRule(models.Model):
    """A rate for a product or a category (product wins); tier 1 is the promoter who shared, tier 2 their parent."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    tier = models.PositiveSmallIntegerField(default=1)
    rate_bp = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=2), name="rule_tier_one_or_two"),
            models.CheckConstraint(condition=Q(rate_bp__lte=5000), name="rule_rate_capped"),
            models.CheckConstraint(
                condition=Q(product__isnull=False) | Q(category__isnull=False), name="rule_has_target"
            ),
        ]


class Commission(models.Model):
    class Status(models.TextChoices):
        FROZEN = "frozen", _("Frozen")
        SETTLED = "settled", _("Settled")
        CANCELLED = "cancelled", _("Cancelled")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="commissions")
    order = models.ForeignKey(Order, on_delete=models.CASCADE)
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE)
    tier = models.PositiveSmallIntegerField(default=1)
    base_amount = models.PositiveIntegerField()  # what was actually paid for the line
    rate_bp = models.PositiveIntegerField()
    amount = models.PositiveIntegerField()  # current amount, reduced by partial refunds
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FROZEN)
    settle_after = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["line", "tier"], name="one_commission_per_line_tier")]
        indexes = [models.Index(fields=["shop", "status", "settle_after"])]


class LedgerAccount(models.Model):
    """Double-entry accounts: each promoter's frozen / available / paid, and the shop's own."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    promoter = models.ForeignKey(Promoter, null=True, blank=True, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)  # frozen | available | paid_out | commission_expense | payout_clearing

    class Meta:
        # One account per (shop, promoter, kind), the shop's own (promoter NULL) included. Two partial
        # unique indexes rather than one NULLS NOT DISTINCT constraint, which SQLite cannot create
        # (Django skips it there with models.W047 and the embedded install would allow duplicates).
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "kind"], condition=Q(promoter__isnull=True), name="one_shop_account_per_kind"
            ),
            models.UniqueConstraint(
                fields=["shop", "promoter", "kind"],
                condition=Q(promoter__isnull=False),
                name="one_promoter_account_per_kind",
            ),
        ]


class LedgerEntry(models.Model):
    """One posting line. The lines of one transaction sum to zero; entries are never changed."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    transaction = models.CharField(max_length=32, db_index=True)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()  # fen; + debit, - credit
    ref_type = models.CharField(max_length=20)  # commission | withdrawal
    ref_id = models.BigIntegerField()
    memo = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Withdrawal(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        PAYING = "paying", _("Paying")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="withdrawals")
    amount = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    out_no = models.CharField(max_length=32, unique=True)  # idempotency key, saved before the payout call
    approvals = models.JSONField(default=list, blank=True)  # [{"staff": id, "at": iso}]
    provider_ref = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class PromoterFlag(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    promoter = models.ForeignKey(Promoter, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=20)  # self_purchase | address_cluster | device_cluster | refund_spike
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)


class PriceFloor(models.Model):
    """Minimum advertised price for a SKU; selling below it needs an override recorded in the audit log."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    sku = models.OneToOneField(Sku, on_delete=models.CASCADE, related_name="price_floor")
    min_price = models.PositiveIntegerField()


class TraceBatch(models.Model):
    """一物一码: a batch of unique codes, one per physical item."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(max_length=40)
    quantity = models.PositiveIntegerField()
    created_by = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)


class TraceCode(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    batch = models.ForeignKey(TraceBatch, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=20, unique=True)
    serial = models.PositiveIntegerField()
    scan_count = models.PositiveIntegerField(default=0)
    first_scan_at = models.DateTimeField(null=True, blank=True)
    suspicious = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "serial"], name="trace_serial_unique")]


class TraceScan(models.Model):
    code = models.ForeignKey(TraceCode, on_delete=models.CASCADE, related_name="scans")
    at = models.DateTimeField(auto_now_add=True)
    ip_hash = models.CharField(max_length=64)
    place = models.CharField(max_length=60, blank=True)  # coarse location (e.g. from an IP prefix or a header)
