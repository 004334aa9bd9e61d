"""Threshold discounts (满减 / 满折), limited-time discounts (限时折扣) and member prices (会员价).

Money is integer fen; rates are basis points. A threshold activity's tiers and scope are small JSON
lists read whole with the activity at checkout (one query, only when the shop runs one).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product, Sku
from siyu.core.ids import public_id
from siyu.customers.models import MemberLevel
from siyu.orders.models import Order
from siyu.shops.models import Shop


class Status(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


class Scope(models.TextChoices):
    ALL = "all", _("All products")
    CATEGORIES = "categories", _("Categories")
    PRODUCTS = "products", _("Products")


class TierMode(models.TextChoices):
    AMOUNT = "amount", _("Spend X, save Y (满减)")
    RATE = "rate", _("Spend X, pay a share (满折)")


class ThresholdActivity(models.Model):
    """满减 / 满折: spend at least a tier's threshold on the products in scope, save that tier's
    amount (or pay `value` basis points of the eligible amount). The best reached tier applies.
    With `repeat` (amount mode, one tier): save Y for every X spent, at most `repeat_cap` fen."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=16, unique=True, default=public_id)
    name = models.CharField(_("name"), max_length=40)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.ALL)
    # Category ids (with their subcategories at the time of saving) or product ids, per `scope`.
    scope_ids = models.JSONField(default=list, blank=True)
    excluded_ids = models.JSONField(default=list, blank=True)  # product ids never counted
    mode = models.CharField(max_length=8, choices=TierMode.choices, default=TierMode.AMOUNT)
    # [{"threshold": fen, "value": fen saved (amount) or basis points paid (rate)}], threshold ascending
    tiers = models.JSONField(default=list)
    repeat = models.BooleanField(_("repeat for every threshold reached"), default=False)
    repeat_cap = models.PositiveIntegerField(_("most saved when repeating (fen, 0: no cap)"), default=0)
    stacks_with_coupons = models.BooleanField(_("may be combined with coupons"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "status", "ends_at"], name="threshold_live_idx")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="threshold_window")]

    def __str__(self) -> str:
        return self.name


class LimitedTimeDiscount(models.Model):
    """限时折扣: SKUs sold at a fixed price or a percentage off between two moments, optionally at
    most `per_customer_limit` units per shopper at that price."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=16, unique=True, default=public_id)
    name = models.CharField(_("name"), max_length=40)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    per_customer_limit = models.PositiveIntegerField(_("units per customer at this price (0: no limit)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "status", "ends_at"], name="limited_live_idx")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="limited_window")]

    def __str__(self) -> str:
        return self.name


class LimitedTimeItem(models.Model):
    """One SKU in a limited-time discount: a fixed `price` (fen), or `off_bp` basis points off the
    SKU's price at the moment of sale (exactly one of them is set)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    discount = models.ForeignKey(LimitedTimeDiscount, on_delete=models.CASCADE, related_name="items")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    price = models.PositiveIntegerField(null=True, blank=True)
    off_bp = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["sku_id"]
        indexes = [models.Index(fields=["shop", "sku"], name="limited_item_sku_idx")]
        constraints = [
            models.UniqueConstraint(fields=["discount", "sku"], name="limited_item_unique"),
            models.CheckConstraint(
                condition=(Q(price__isnull=False) & Q(off_bp__isnull=True))
                | (Q(price__isnull=True) & Q(off_bp__gte=1) & Q(off_bp__lte=9999)),
                name="limited_item_one_rule",
            ),
        ]


class LimitedTimeBuyer(models.Model):
    """Units a shopper holds at a limited-time price, for the per-customer limit. Changed only by a
    conditional UPDATE (`bought + n <= limit`), so concurrent orders cannot pass the limit."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    discount = models.ForeignKey(LimitedTimeDiscount, on_delete=models.CASCADE, related_name="+")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    bought = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["discount", "shopper"], name="limited_buyer_unique")]


class LimitedTimeUse(models.Model):
    """What one order took from a shopper's allowance; deleted (and given back) when it is cancelled."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    discount = models.ForeignKey(LimitedTimeDiscount, on_delete=models.CASCADE, related_name="+")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "discount"], name="limited_use_unique")]


class MemberPrice(models.Model):
    """会员价: the price of one SKU for customers at one membership level. It replaces that level's
    percentage discount for this SKU (see siyu.customers.membership)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    level = models.ForeignKey(MemberLevel, on_delete=models.CASCADE, related_name="+")
    price = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku_id", "level_id"]
        indexes = [models.Index(fields=["shop", "level", "sku"], name="member_price_lookup_idx")]
        constraints = [models.UniqueConstraint(fields=["sku", "level"], name="member_price_unique")]
