"""Community groups (社群) as data: a chat group or an offline community, its leader (团长), members,
and what came through the group's own share code (visits, sign-ups, orders).

Attribution lives in rows of its own (GroupVisit, GroupTouch, GroupOrder) and never in the
referral tables: a group link does not bind anyone to a referrer, so a customer's first-touch
referrer (referrals.ReferralBinding, the session's `ref`) stays what it was. See attribution.py.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.customers.models import Customer
from siyu.distribution.models import Promoter
from siyu.orders.models import Order
from siyu.shops.models import Shop


class GroupKind(models.TextChoices):
    WECHAT = "wechat", _("WeChat group")
    WECOM = "wecom", _("WeCom customer group")
    OFFLINE = "offline", _("Offline community")


class Group(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="community_groups")
    public_id = models.CharField(max_length=16, unique=True)
    # The group's own share code: /g/<code>/ (join page, QR) and ?g=<code> on any storefront link.
    code = models.CharField(max_length=12, unique=True)
    name = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=GroupKind.choices, default=GroupKind.WECHAT)
    leader_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="groups_led"
    )
    leader_staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The approved promoter (the customer leader themself) paid on the group's retail sales, through
    # the ordinary commission path. Empty: the leader earns nothing.
    leader_promoter = models.ForeignKey(Promoter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True, max_length=2000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(leader_customer__isnull=True) | Q(leader_staff__isnull=True), name="group_one_leader"
            ),
            models.CheckConstraint(
                condition=Q(leader_promoter__isnull=True) | Q(leader_customer__isnull=False),
                name="group_reward_needs_customer_leader",
            ),
        ]
        indexes = [models.Index(fields=["shop", "is_active"])]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    class Source(models.TextChoices):
        LINK = "link", _("Joined through the link")
        STAFF = "staff", _("Added by staff")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="group_memberships")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LINK)
    joined_at = models.DateTimeField()

    class Meta:
        # One membership per customer and group, held by the database: two joins at once make one.
        constraints = [models.UniqueConstraint(fields=["group", "customer"], name="one_membership_per_group")]
        indexes = [models.Index(fields=["group", "joined_at"])]


class GroupVisit(models.Model):
    """A storefront visit that came through a group's code (the top of the group's funnel)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="visits")
    visitor_key = models.CharField(max_length=64)  # the visitor id kept in the session (shared with referrals)
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    path = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(db_index=True)


class GroupTouch(models.Model):
    """A shopper's latest group link in a shop (orders within the window go to that group), and the
    group that first brought them in while they had not bought here yet (their sign-up), kept once."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="touches")
    touched_at = models.DateTimeField()
    signup_group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL, related_name="signups")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopper"], name="one_group_touch_per_shopper")]


class GroupOrder(models.Model):
    """An order placed within the window of a group touch. `leader_promoter` is set when the order
    carried no share code and the group's leader promoter's code was written on it (and so earns the
    ordinary commission); empty when the order already had someone's code (that one keeps it)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="orders")
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="group_order")
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="+")
    leader_promoter = models.ForeignKey(Promoter, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["group", "shopper"])]
