"""Group buys (拼团): a campaign sells a product's SKUs at a group price to groups of N shoppers.

A leader opens a group by paying for a group-price order; friends join through the group's share
link and pay; the group forms at N paid members (their orders may then ship) or fails at its
deadline (every paid member is refunded in full, unpaid orders are cancelled). With `auto_fill`
the seller lets a group short at its deadline be completed with virtual members, which are
stored and shown as such.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product, Sku
from siyu.orders.models import Order
from siyu.shops.models import Shop


class GroupBuy(models.Model):
    """A group-buy campaign on one product."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    group_size = models.PositiveSmallIntegerField()  # N, 2–50
    hours = models.PositiveSmallIntegerField(default=24)  # time a group has to form
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    per_customer_limit = models.PositiveSmallIntegerField(default=1)  # units per shopper, whole campaign
    auto_fill = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)  # the seller may stop it early
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "product", "ends_at"], name="groupbuy_product")]
        constraints = [
            models.CheckConstraint(condition=Q(group_size__gte=2, group_size__lte=50), name="groupbuy_size_2_50"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="groupbuy_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupBuyPrice(models.Model):
    """The group price of one SKU in a campaign."""

    campaign = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    group_price = models.PositiveIntegerField()  # fen

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "sku"], name="groupbuy_price_unique")]


class GroupStatus(models.TextChoices):
    OPEN = "open", _("Open, waiting for members")
    FORMED = "formed", _("Formed")
    FAILED = "failed", _("Failed, refunded")


class Group(models.Model):
    """One group of a campaign, opened when its leader's payment landed.

    `joined` counts paid members (virtual ones included once added); it changes only under this
    row's lock (siyu/core/locks.py rank REACTION)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="groups")
    public_id = models.CharField(max_length=20, unique=True)
    leader = models.ForeignKey(Shopper, on_delete=models.PROTECT, related_name="+")
    size = models.PositiveSmallIntegerField()  # the campaign's N when the group opened
    joined = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=10, choices=GroupStatus.choices, default=GroupStatus.OPEN)
    deadline = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    formed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="group_status_deadline"),
            models.Index(fields=["campaign", "status"], name="group_campaign_status"),
        ]
        constraints = [models.CheckConstraint(condition=Q(joined__lte=F("size")), name="group_joined_within_size")]

    def __str__(self) -> str:
        return self.public_id

    @property
    def missing(self) -> int:
        return max(0, self.size - self.joined)


class MemberStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    JOINED = "joined", _("Joined")
    REFUNDING = "refunding", _("Being refunded")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")


class GroupMember(models.Model):
    """A shopper's group-buy order (or, with auto-fill, a virtual member with no order).

    Made with the order (pending); decided when its payment lands: joined, or refunding with
    `why` (the group was full, closed or failed). A leader's `group` is set when their payment
    opens it; a joiner's is the group they asked to join."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="members")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="members")
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="group_member")
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    display_name = models.CharField(max_length=40, blank=True)  # nickname or masked phone, when it was made
    quantity = models.PositiveSmallIntegerField(default=1)
    is_leader = models.BooleanField(default=False)
    is_virtual = models.BooleanField(default=False)  # added by auto-fill, shown as such
    status = models.CharField(max_length=10, choices=MemberStatus.choices, default=MemberStatus.PENDING)
    why = models.CharField(max_length=20, blank=True)  # why a refund is due: group_full, group_failed, …
    created_at = models.DateTimeField(auto_now_add=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="groupmember_status")]
        constraints = [
            # A shopper is in a group once; checked under the group's lock, and held here too.
            models.UniqueConstraint(
                fields=["group", "shopper"], condition=Q(status="joined"), name="groupmember_once_per_group"
            ),
        ]


class GroupBuyer(models.Model):
    """Units a shopper holds in a campaign (placed and not cancelled or refunded): the
    per-customer limit, changed by one conditional UPDATE."""

    campaign = models.ForeignKey(GroupBuy, on_delete=models.CASCADE, related_name="+")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    units = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "shopper"], name="groupbuyer_unique")]
