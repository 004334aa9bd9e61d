"""Bargains (砍价): a shopper starts a bargain on one SKU, friends each cut the price once, and the
starter buys at the price reached.

A campaign is the seller's offer (SKU, floor, helps needed, hours per bargain, window, cap). A
bargain is one shopper's attempt: its cut schedule is drawn when it starts and stored, so a help
only takes the next stored cut under the bargain's row lock. A help is one friend's cut.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper
from siyu.catalog.models import Product, Sku
from siyu.core.ids import public_id
from siyu.core.states import StateMachine
from siyu.orders.models import Order
from siyu.shops.models import Shop

MIN_HELPS, MAX_HELPS = 2, 100
MAX_HOURS = 24 * 30

# A campaign ends once (by staff). A bargain is open until its starter orders it (ordered), the
# order is paid (bought) or cancelled (open again, or expired when its deadline has passed), or
# its deadline passes unbought (expired, set when the starter starts another).
CAMPAIGN_STATES = StateMachine(name="bargain_campaign", table={"active": ["ended"], "ended": []})
BARGAIN_STATES = StateMachine(
    name="bargain",
    table={"open": ["ordered", "expired"], "ordered": ["open", "bought", "expired"], "bought": [], "expired": []},
)


class BargainCampaign(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=16, unique=True, default=public_id)
    name = models.CharField(_("name"), max_length=60)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")  # the SKU's, for panels
    floor_price = models.PositiveIntegerField(_("floor price (fen)"))
    helps_needed = models.PositiveSmallIntegerField(_("helps needed"))
    hours = models.PositiveSmallIntegerField(_("hours per bargain"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    stock_cap = models.PositiveIntegerField(_("how many may buy"))
    # Slots taken by bargains that were ordered (see services.bargain_order_take): never above stock_cap.
    slots_taken = models.PositiveIntegerField(default=0)
    buy_at_current = models.BooleanField(_("may buy before the floor is reached"), default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "status", "product"], name="bargain_campaign_live")]
        constraints = [
            models.CheckConstraint(condition=Q(slots_taken__lte=models.F("stock_cap")), name="bargain_slots_cap"),
            models.CheckConstraint(
                condition=Q(helps_needed__gte=MIN_HELPS, helps_needed__lte=MAX_HELPS), name="bargain_helps_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Bargain(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ORDERED = "ordered", _("Ordered")
        BOUGHT = "bought", _("Bought")
        EXPIRED = "expired", _("Expired")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(BargainCampaign, on_delete=models.CASCADE, related_name="bargains")
    public_id = models.CharField(max_length=16, unique=True, default=public_id)
    starter = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    start_price = models.PositiveIntegerField()  # the SKU's price when it started
    floor_price = models.PositiveIntegerField()
    current_price = models.PositiveIntegerField()
    cuts = models.JSONField(default=list)  # the schedule drawn at start: helps_needed cuts in fen, in order
    helps_done = models.PositiveSmallIntegerField(default=0)
    deadline = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    holds_slot = models.BooleanField(default=False)  # took one of the campaign's slots when first ordered
    device_key = models.CharField(max_length=64, blank=True)  # keyed hash of the starter's device id
    ip_key = models.CharField(max_length=64, blank=True)  # keyed hash of the starter's network
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["shop", "starter"], name="bargain_by_starter"),
            models.Index(fields=["order"], name="bargain_by_order"),
        ]
        constraints = [
            # One bargain per shopper per campaign at a time (open, or ordered and not yet paid).
            models.UniqueConstraint(
                fields=["campaign", "starter"],
                condition=Q(status__in=["open", "ordered"]),
                name="bargain_one_live_per_starter",
            ),
            models.CheckConstraint(
                condition=Q(current_price__gte=models.F("floor_price")), name="bargain_not_below_floor"
            ),
        ]

    def __str__(self) -> str:
        return self.public_id


class BargainHelp(models.Model):
    """One friend's cut. `flags` notes what the helper shares with the starter (the same device,
    network or shipping phone/address), as the distribution's promoter flags do, for staff to see."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    bargain = models.ForeignKey(Bargain, on_delete=models.CASCADE, related_name="helps")
    helper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()  # 1 for the first help
    cut = models.PositiveIntegerField()
    ip_key = models.CharField(max_length=64, blank=True)
    flags = models.JSONField(default=list, blank=True)  # "same_device", "same_network", "same_address"
    flagged = models.BooleanField(default=False)  # any flag: what the console counts
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["bargain", "helper"], name="bargain_help_once"),
            models.UniqueConstraint(fields=["bargain", "position"], name="bargain_help_position"),
        ]
        indexes = [
            models.Index(fields=["helper", "created_at"], name="bargain_help_by_helper"),
            models.Index(fields=["ip_key", "created_at"], name="bargain_help_by_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.bargain_id}#{self.position}"
