"""What every promotion shares: the record of which orders it was used on and what it gave away."""

from django.db import models

from siyu.orders.models import Order
from siyu.shops.models import Shop


class PromotionUse(models.Model):
    """One promotion used on one order, written with the order (the `order.placed` subscriber in
    handlers.py). `kind` and `ref` are the "kind:ref" the order names (e.g. "coupon" and the
    coupon's public id); `discount` is what it took off: for a line price, (list − unit price) ×
    quantity over its lines; for a basket adjustment, the adjustment's amount, except that a
    free-shipping coupon records the postage it waived (its adjustment takes nothing off the items)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="promotion_uses")
    kind = models.CharField(max_length=30)
    ref = models.CharField(max_length=40)
    discount = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "kind", "ref"], name="promotion_use_unique")]
        indexes = [models.Index(fields=["shop", "kind", "ref"], name="promotion_use_lookup")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref} on order {self.order_id}"
