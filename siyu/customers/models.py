"""The private customer pool: the seller's own record of each person, per shop."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.accounts.models import Shopper, StaffMember
from siyu.catalog.models import Product
from siyu.core.crypto import EncryptedTextField, mask_phone
from siyu.core.states import StateMachine
from siyu.shops.models import Shop


class Source(models.TextChoices):
    STORE = "store", _("Own store")
    TAOBAO = "taobao", _("Taobao / Tmall")
    JD = "jd", _("JD")
    PDD = "pdd", _("Pinduoduo")
    IMPORT = "import", _("Other import")
    MANUAL = "manual", _("Added by staff")


class Lifecycle(models.TextChoices):
    PROSPECT = "prospect", _("No order yet")
    NEW = "new", _("New")
    ACTIVE = "active", _("Active")
    AT_RISK = "at_risk", _("At risk")
    DORMANT = "dormant", _("Dormant")
    LOST = "lost", _("Lost")


class MemberLevel(models.Model):
    """A membership level reached by cumulative spend, with its benefits."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="member_levels")
    name = models.CharField(_("name"), max_length=20)
    min_spend = models.PositiveIntegerField(_("from cumulative spend (fen)"))
    discount_bp = models.PositiveIntegerField(_("discount (basis points)"), default=0)
    free_shipping = models.BooleanField(_("free shipping"), default=False)

    class Meta:
        ordering = ["min_spend"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "min_spend"], name="level_threshold_unique"),
            models.CheckConstraint(condition=Q(discount_bp__lte=5000), name="level_discount_at_most_half"),
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers")
    public_id = models.CharField(max_length=16, unique=True)
    phone_hash = models.CharField(max_length=64)
    phone = EncryptedTextField(blank=True)
    name = models.CharField(_("name"), max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.STORE)
    province = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=30, blank=True)
    assigned_to = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL)
    level = models.ForeignKey(MemberLevel, null=True, blank=True, on_delete=models.SET_NULL)
    # Figures kept in step by the order handlers and the importer: own orders plus imported ones.
    order_count = models.PositiveIntegerField(default=0)
    total_spent = models.BigIntegerField(default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    rfm_r = models.PositiveSmallIntegerField(default=0)
    rfm_f = models.PositiveSmallIntegerField(default=0)
    rfm_m = models.PositiveSmallIntegerField(default=0)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices, default=Lifecycle.PROSPECT)
    marketing_consent_at = models.DateTimeField(null=True, blank=True)
    birthday = models.DateField(null=True, blank=True)  # month and day drive birthday coupons
    profiling_consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    anonymized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "phone_hash"], name="customer_phone_unique")]
        indexes = [
            models.Index(fields=["shop", "lifecycle"]),
            models.Index(fields=["shop", "last_order_at"]),
            models.Index(fields=["shop", "total_spent"]),
        ]

    def __str__(self) -> str:
        return self.name or self.masked_phone

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class ExternalOrder(models.Model):
    """An order placed on another platform, brought in by an import; counts in spend and RFM."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="external_orders")
    source = models.CharField(max_length=10, choices=Source.choices)
    external_id = models.CharField(max_length=64)
    placed_at = models.DateTimeField()
    amount = models.PositiveIntegerField()
    items = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [models.UniqueConstraint(fields=["shop", "source", "external_id"], name="external_order_unique")]


class Tag(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=20)
    # Automatic tags carry segment-style rules and are re-applied by the worker.
    rules = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="tag_name_unique")]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="links")
    automatic = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")]


class Note(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL)
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class FollowUp(models.Model):
    """A task for a staff member about a customer: call back, remind to re-buy, …"""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="follow_ups")
    assignee = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL)
    title = models.CharField(max_length=120)
    due_on = models.DateField()
    kind = models.CharField(max_length=12, default="manual")  # manual | repurchase
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["shop", "assignee", "due_on"])]
        constraints = [
            # one open repurchase reminder per customer and product
            models.UniqueConstraint(
                fields=["customer", "product"],
                condition=Q(kind="repurchase", done_at__isnull=True),
                name="one_open_repurchase_reminder",
            )
        ]


class CustomerEvent(models.Model):
    """The customer's timeline: orders, imports, tags, notes, consents, staff views of personal data."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=30)
    actor_label = models.CharField(max_length=60, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]


class SocialAccount(models.Model):
    """One of the seller's personal WeChat / WeCom accounts, which holds customers as friends."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="social_accounts")
    name = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, default="wechat")  # wechat | wecom
    handle = models.CharField(max_length=60, blank=True)
    capacity = models.PositiveIntegerField(default=5000)
    owner = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["id"]


class SocialLink(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ADDED = "added", _("Friend")
        DELETED = "deleted", _("Deleted")

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="links")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="social_links")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "customer"], name="social_link_unique")]


class Segment(models.Model):
    """A saved rule set. Members are re-computed in SQL on demand and nightly."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=40)
    rules = models.JSONField()
    member_count = models.PositiveIntegerField(default=0)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="segment_name_unique")]


class SegmentMember(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_unique")]


class ImportJob(models.Model):
    """One upload of past buyers: its counts and the rows it refused, with reasons.

    The counts: `imported` customers made by the file, `merged` customers already in the pool who
    gained orders from it, `orders_added` orders new to the pool (a multi-row order is one),
    `unchanged` rows that brought nothing new (already imported), `rejected` rows refused, with
    `rejected_reasons` tallying them by reason. Status moves only through IMPORT_JOB.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    created_by = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL)
    filename = models.CharField(max_length=200)
    layout = models.CharField(max_length=10)  # taobao | jd | pdd | generic
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    orders_added = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # [{"row": n, "reason": "...", "values": [...]}, plus "detail" (e.g. the order status) where it helps]
    rejected_rows = models.JSONField(default=list, blank=True)
    rejected_reasons = models.JSONField(default=dict, blank=True)  # {reason: rows}, every rejected row
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]


_J = ImportJob.Status
# pending → running is the worker's claim (or an import run at once); only a running job finishes,
# so a job that cannot read its upload is claimed first and then fails.
IMPORT_JOB = StateMachine(
    name="import_job",
    table={
        _J.PENDING: {_J.RUNNING},
        _J.RUNNING: {_J.DONE, _J.FAILED},
        _J.DONE: set(),
        _J.FAILED: set(),
    },
    labels=dict(_J.choices),
)


class PointsEntry(models.Model):
    """The points ledger: append-only; a balance is the sum of its entries and never negative."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="points")
    delta = models.IntegerField()
    reason = models.CharField(max_length=20)  # earn | redeem | reverse | expire | adjust
    order_id = models.BigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer", "created_at"])]


class CrmSettings(models.Model):
    """A shop's customer-pool rules: lifecycle thresholds and points. Made with defaults on first use."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="crm_settings")
    new_days = models.PositiveIntegerField(default=30)  # first order within → new
    active_days = models.PositiveIntegerField(default=90)  # last order within → active
    at_risk_days = models.PositiveIntegerField(default=180)  # last order within → at risk
    dormant_days = models.PositiveIntegerField(default=365)  # within → dormant; beyond → lost
    points_per_yuan = models.PositiveIntegerField(default=1)  # earned on completed orders
    points_per_yuan_redeemed = models.PositiveIntegerField(default=100)  # 100 points pay 1 yuan
    max_redeem_bp = models.PositiveIntegerField(default=5000)  # points pay at most half an order
    points_valid_days = models.PositiveIntegerField(default=365)
