from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from siyu.core.crypto import EncryptedTextField
from siyu.orders.models import AfterSale, Order
from siyu.shops.models import Shop


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("Waiting for the payer")
    SUCCEEDED = "succeeded", _("Paid")
    FAILED = "failed", _("Failed")


class Payment(models.Model):
    """One attempt to collect an order's total through one provider."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    out_trade_no = models.CharField(max_length=32, unique=True)
    provider_txn_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    amount = models.PositiveIntegerField()
    refunded_amount = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    outcome = models.CharField(max_length=20, blank=True)  # paid / reinstated / needs_refund
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(refunded_amount__lte=F("amount")), name="payment_refund_within_amount"),
            # One open attempt per order and provider: parallel "pay" taps reuse it instead of racing.
            models.UniqueConstraint(
                fields=["order", "provider"], condition=Q(status="created"), name="payment_one_open_per_provider"
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    """Money going back through the provider that took it. The key is saved before the call."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    after_sale = models.ForeignKey(AfterSale, null=True, blank=True, on_delete=models.PROTECT)
    out_refund_no = models.CharField(max_length=32, unique=True)
    amount = models.PositiveIntegerField()
    reason = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_refund_id = models.CharField(max_length=64, blank=True)
    # Set when the provider accepted the refund without a final answer (WeChat Pay PROCESSING,
    # Alipay without fund_change): from then on we ask for the result instead of asking again.
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The provider's words for a refusal (shown to finance with the after-sale that is due again).
    result_message = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "created_at"])]


class PaymentAccount(models.Model):
    """A shop's own merchant account with a provider (WeChat Pay, Alipay).

    `settings` holds what may be shown (ids, the provider's public key); `secrets` holds the rest
    (private keys, the APIv3 key) as encrypted JSON, never shown back. Built into a provider by
    `siyu.payments.accounts`.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="payment_accounts")
    provider = models.CharField(max_length=20)
    settings = models.JSONField(default=dict, blank=True)
    secrets = EncryptedTextField(blank=True, default="")
    notify_url = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "provider"], name="payment_account_one_per_provider")]

    def __str__(self) -> str:
        return f"{self.shop_id}:{self.provider}"
