from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product, Sku
from siyu.core.crypto import EncryptedTextField, mask_phone
from siyu.shops.models import Shop


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Pending payment")
    PAID = "paid", _("Paid")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed (refunded)")


class CartLine(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="cart_lines")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField(default=1)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["shop", "shopper", "sku"], name="cart_line_unique")]


class Order(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    public_id = models.CharField(max_length=20, unique=True)
    number = models.CharField(max_length=24, unique=True)
    shopper = models.ForeignKey(Shopper, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    idempotency_key = models.CharField(max_length=64)
    subtotal = models.PositiveIntegerField()
    shipping_fee = models.PositiveIntegerField(default=0)
    discount = models.PositiveIntegerField(default=0)
    points_used = models.PositiveIntegerField(default=0)
    adjustments = models.JSONField(default=list, blank=True)  # [{"kind", "label", "amount"}] from pricing hooks
    total = models.PositiveIntegerField()
    paid_amount = models.PositiveIntegerField(default=0)
    refunded_amount = models.PositiveIntegerField(default=0)
    recipient = models.CharField(max_length=40)
    phone = EncryptedTextField()
    province = models.CharField(max_length=20)
    city = models.CharField(max_length=30)
    district = models.CharField(max_length=30)
    address_detail = EncryptedTextField()
    note = models.CharField(max_length=200, blank=True)
    no_returns_confirmed = models.BooleanField(default=False)
    ref_code = models.CharField(max_length=12, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    pay_deadline = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    stock_released = models.BooleanField(default=False)
    # Why the order may not ship yet, e.g. "group_buy" until its group forms; "" when it may.
    fulfilment_hold = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["shop", "status", "created_at"]),
            models.Index(fields=["shop", "shopper", "created_at"]),
            # Analytics (cohorts, trends, repurchase) read a shop's paid orders by shopper and time.
            models.Index(
                fields=["shop", "shopper", "paid_at"], condition=Q(paid_at__isnull=False), name="order_paid_by_shopper"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["shop", "shopper", "idempotency_key"], name="order_idempotency_unique"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=F("paid_amount")), name="refund_within_paid"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")

    @property
    def refundable_amount(self) -> int:
        return self.paid_amount - self.refunded_amount


class OrderLine(models.Model):
    """A line as it was bought: name, spec and price are copied, so later edits change nothing."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    product_name = models.CharField(max_length=60)
    sku_label = models.CharField(max_length=200, blank=True)
    image = models.CharField(max_length=200, blank=True)
    list_price = models.PositiveIntegerField(default=0)  # the SKU's own price then (0: before promotions)
    unit_price = models.PositiveIntegerField()  # what it sold at: list price or a promotion's price
    quantity = models.PositiveIntegerField()
    line_total = models.PositiveIntegerField()
    return_policy = models.CharField(max_length=20)
    promotion = models.CharField(max_length=60, blank=True, default="")  # "kind:ref" that priced it
    stock_held = models.BooleanField(default=False)  # its promotion reserves and returns the stock
    shipped_quantity = models.PositiveIntegerField(default=0)
    refunded_quantity = models.PositiveIntegerField(default=0)
    refunded_amount = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(shipped_quantity__lte=F("quantity")), name="ship_within_quantity"),
            models.CheckConstraint(condition=Q(refunded_amount__lte=F("line_total")), name="line_refund_within_total"),
        ]


class OrderTimeline(models.Model):
    """Every status change and notable step of an order: who, when, from, to, why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=60)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=40)
    note = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)  # structured facts, e.g. {"amount": fen}, shown in words

    class Meta:
        ordering = ["id"]


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=40)
    tracking_number = models.CharField(max_length=40)
    shipped_at = models.DateTimeField(auto_now_add=True)
    lines = models.JSONField(default=list)  # [{"line": id, "quantity": n}]

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "carrier", "tracking_number"], name="shipment_unique")]


class AfterSaleKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("Refund only")
    RETURN_REFUND = "return_refund", _("Return and refund")
    EXCHANGE = "exchange", _("Exchange")


class AfterSaleStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    AWAITING_RETURN = "awaiting_return", _("Awaiting return")
    RETURNED = "returned", _("Goods returned")
    REFUNDING = "refunding", _("Refunding")
    REFUNDED = "refunded", _("Refunded")
    # An exchange after the goods came back: the replacement waits for stock, is reserved (to ship),
    # is on its way, and is received (`exchanged`).
    AWAITING_STOCK = "awaiting_stock", _("Replacement awaiting stock")
    REPLACEMENT_READY = "replacement_ready", _("Replacement to ship")
    REPLACEMENT_SENT = "replacement_sent", _("Replacement shipped")
    EXCHANGED = "exchanged", _("Exchanged")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AfterSale(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    public_id = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="after_sales")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="after_sales")
    kind = models.CharField(max_length=20, choices=AfterSaleKind.choices)
    status = models.CharField(max_length=20, choices=AfterSaleStatus.choices, default=AfterSaleStatus.REQUESTED)
    quantity = models.PositiveIntegerField()
    amount = models.PositiveIntegerField()  # everything refunded, postage included
    shipping_amount = models.PositiveIntegerField(default=0)  # the postage part of `amount`
    reason = models.CharField(max_length=300)
    photos = models.JSONField(default=list, blank=True)
    staff_note = models.CharField(max_length=300, blank=True)
    return_carrier = models.CharField(max_length=40, blank=True)
    return_tracking = models.CharField(max_length=40, blank=True)
    # Exchanges only: what goes out in place of the returned goods (the line's SKU unless staff
    # choose another SKU of the same product at the same price), and how it travels.
    replacement_sku = models.ForeignKey(Sku, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replacement_carrier = models.CharField(max_length=40, blank=True)
    replacement_tracking = models.CharField(max_length=40, blank=True)
    replacement_shipped_at = models.DateTimeField(null=True, blank=True)
    replacement_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        # The worker's scans: exchanges waiting for stock, replacements due for auto-confirmation.
        indexes = [models.Index(fields=["status", "updated_at"], name="aftersale_status_updated")]
