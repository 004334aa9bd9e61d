"""Flash sales (秒杀): sessions (场次) with a time window, and the SKUs each sells at a flash price
from a flash stock of its own.

Stock moves in three places, each exactly once:
- scheduling a session takes every item's flash stock out of its SKU's stock (`stock_taken`);
- each order takes its units from `stock_left` (and a cancelled unpaid order puts them back);
- ending the session puts what is left back into the SKU's stock (`stock_returned`,
  `returned_quantity`); units of an order cancelled after that go straight back to the SKU.
So, at any time: stock_left + units in orders not cancelled + returned_quantity == flash_stock.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product, Sku
from siyu.core.ids import public_id
from siyu.orders.models import Order
from siyu.shops.models import Shop


class SessionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    ENDED = "ended", _("Ended")


def _public_id() -> str:
    return public_id(12)


class FlashSession(models.Model):
    """One flash-sale session (场次): its items sell at their flash price between starts_at and ends_at."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=16, unique=True, default=_public_id)
    name = models.CharField(max_length=60)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    pay_minutes = models.PositiveSmallIntegerField(default=5)  # unpaid orders are cancelled after this
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["shop", "status", "ends_at"], name="flash_session_due")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="flash_window")]

    def __str__(self) -> str:
        return self.name


class FlashItem(models.Model):
    """A SKU sold in a session: flash price, flash stock (set and left) and a per-customer limit."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(FlashSession, on_delete=models.CASCADE, related_name="items")
    public_id = models.CharField(max_length=16, unique=True, default=_public_id)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")  # the SKU's, for the panel
    flash_price = models.PositiveIntegerField()  # fen
    flash_stock = models.PositiveIntegerField()  # units set for the session
    stock_left = models.IntegerField(default=0)  # units still for sale (0 until the session is scheduled)
    per_customer_limit = models.PositiveSmallIntegerField(default=1)
    stock_taken = models.BooleanField(default=False)
    stock_returned = models.BooleanField(default=False)
    returned_quantity = models.PositiveIntegerField(default=0)  # went back to the SKU (at the end, or cancelled after)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sku"], name="flash_item_sku_once"),
            models.CheckConstraint(condition=Q(stock_left__gte=0), name="flash_stock_not_negative"),
            models.CheckConstraint(condition=Q(per_customer_limit__gte=1), name="flash_limit_positive"),
        ]
        indexes = [models.Index(fields=["shop", "product"], name="flash_item_product")]

    def __str__(self) -> str:
        return f"{self.session_id}:{self.sku_id}"

    @property
    def sold(self) -> int:
        """Units in orders not cancelled (taken from the flash stock and not given back)."""
        if not self.stock_taken:
            return 0
        return self.flash_stock - self.stock_left - self.returned_quantity

    @property
    def sold_bp(self) -> int:
        """How much of the flash stock is sold, in basis points (the progress bar)."""
        return min(10000, self.sold * 10000 // self.flash_stock) if self.flash_stock else 0


class FlashPurchase(models.Model):
    """How many units of an item one shopper holds in orders not cancelled: the per-customer limit
    is enforced on this counter with one conditional statement."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(FlashItem, on_delete=models.CASCADE, related_name="purchases")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "shopper"], name="flash_purchase_once"),
        ]


class FlashOrder(models.Model):
    """An order that bought through a flash sale; `released` is set once, when a cancellation gave
    its units back, so no path can give them back twice."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(FlashItem, on_delete=models.PROTECT, related_name="orders")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    released = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
