"""Pickup (自提): where shoppers collect orders, the pickup row each such order gets, and the
community group-buy batches that bring a point's orders there in one shipment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.core.crypto import EncryptedTextField, mask_phone
from siyu.orders.models import Order
from siyu.shops.models import Shop


class PickupPoint(models.Model):
    """A store, or a group leader's (团长) address. The keeper, a shopper, may verify this point's
    pickup codes from the storefront."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="pickup_points")
    public_id = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=40)
    phone = EncryptedTextField(_("contact phone"), blank=True)
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=30)
    district = models.CharField(_("district"), max_length=30)
    detail = EncryptedTextField(_("street address"))
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    open_days = models.JSONField(default=list, blank=True)  # weekdays open, 0 = Monday; [] = every day
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    keeper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["shop", "is_active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")

    @property
    def address_text(self) -> str:
        return f"{self.province}{self.city}{self.district} {self.detail}"


class PickupBatch(models.Model):
    """A community group-buy batch: a point's paid pickup orders up to a cut-off, delivered there
    in one shipment."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    public_id = models.CharField(max_length=16, unique=True)
    point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="batches")
    cutoff = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=60, blank=True)
    order_count = models.PositiveIntegerField(default=0)
    carrier = models.CharField(max_length=40, blank=True)
    tracking_number = models.CharField(max_length=40, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "point"])]


class PickupOrder(models.Model):
    """The pickup side of one order, written in the order's own transaction."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="pickup")
    point = models.ForeignKey(PickupPoint, on_delete=models.PROTECT, related_name="orders")
    code = models.CharField(max_length=12)
    batch = models.ForeignKey(PickupBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_by_label = models.CharField(max_length=60, blank=True)
    verified_via = models.CharField(max_length=10, blank=True)  # console, api or keeper

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="pickup_code_unique")]
        indexes = [
            # A batch collects a point's orders not yet in one.
            models.Index(fields=["point"], condition=Q(batch__isnull=True), name="pickup_unbatched"),
        ]
