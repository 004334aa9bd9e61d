from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from siyu.core.ids import public_id
from siyu.shops.models import Shop

MAX_FEATURED = 8
MAX_DETAIL_IMAGES = 9


class ReturnPolicy(models.TextChoices):
    NO_REASON_7D = "no_reason_7d", _("7-day no-reason returns")
    QUALITY_ONLY = "quality_only", _("Returns for quality issues only")
    EXCHANGE_ONLY = "exchange_only", _("Exchange only")
    NO_RETURNS = "no_returns", _("No returns")


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ON_SALE = "on_sale", _("On sale")
    OFF_SHELF = "off_shelf", _("Off shelf")


class Category(models.Model):
    """Two levels: a top category, and sub-categories under it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="categories")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("name"), max_length=30)
    position = models.PositiveIntegerField(default=0)
    is_visible = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "parent", "name"], name="category_name_unique"),
            # NULL parents are never equal in SQL, so top-level names need their own rule.
            models.UniqueConstraint(
                fields=["shop", "name"], condition=Q(parent__isnull=True), name="top_category_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ShippingTemplate(models.Model):
    """Unified postage, free over a threshold, plus a surcharge for remote provinces."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shipping_templates")
    name = models.CharField(_("name"), max_length=40)
    base_fee = models.PositiveIntegerField(_("postage (fen)"), default=0)
    free_over = models.PositiveIntegerField(_("free shipping from (fen)"), null=True, blank=True)
    remote_surcharge = models.PositiveIntegerField(_("remote surcharge (fen)"), default=0)
    remote_provinces = models.JSONField(default=list, blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product (SPU). What sells is its SKUs."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    public_id = models.CharField(max_length=16, unique=True, default=public_id)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    shipping_template = models.ForeignKey(ShippingTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    name = models.CharField(_("name"), max_length=60)
    selling_points = models.JSONField(default=list, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    status = models.CharField(max_length=12, choices=ProductStatus.choices, default=ProductStatus.DRAFT)
    spec_names = models.JSONField(default=list, blank=True)
    return_policy = models.CharField(max_length=20, choices=ReturnPolicy.choices, default=ReturnPolicy.NO_REASON_7D)
    consumption_cycle_days = models.PositiveIntegerField(null=True, blank=True)
    main_image = models.ImageField(upload_to="products/", blank=True)
    main_thumb = models.ImageField(upload_to="products/", blank=True)
    # Kept in step with the SKUs by the catalogue services, so lists need no aggregate query.
    price_min = models.PositiveIntegerField(default=0)
    price_max = models.PositiveIntegerField(default=0)
    list_price = models.PositiveIntegerField(null=True, blank=True)
    featured_position = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["shop", "status", "category"])]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "featured_position"],
                condition=Q(featured_position__isnull=False),
                name="featured_slot_unique",
            ),
            models.CheckConstraint(
                condition=Q(featured_position__isnull=True)
                | Q(featured_position__gte=1, featured_position__lte=MAX_FEATURED),
                name="featured_slot_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def allows_returns(self) -> bool:
        return self.return_policy != ReturnPolicy.NO_RETURNS


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/")
    thumb = models.ImageField(upload_to="products/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Sku(models.Model):
    """One sellable variant, e.g. colour red × size M, with its own price and stock."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    spec_key = models.CharField(max_length=200, blank=True, default="")
    spec_values = models.JSONField(default=list, blank=True)
    code = models.CharField(_("SKU code"), max_length=40, blank=True)
    price = models.PositiveIntegerField(_("price (fen)"), default=0)
    list_price = models.PositiveIntegerField(null=True, blank=True)
    cost_price = models.PositiveIntegerField(null=True, blank=True)
    stock = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "spec_key"], name="sku_spec_unique"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="sku_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return self.spec_key or str(self.product_id)

    @property
    def label(self) -> str:
        return " / ".join(self.spec_values)
