"""What the merchant console sends and sees. All money is integer fen (`*_fen`)."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from siyu.catalog.models import MAX_FEATURED

from .schemas import MAX_STOCK, NAME_PATTERN, Fen, Id, In, PageIn, media_url
from .storefront_schemas import CategoryOut, FromCategoryNode, ImageOut, ProductBaseOut, ReturnPolicyOut, ShopOut

# --- shop and dashboard ------------------------------------------------------------------


# The return policies a shop or product can have: ReturnPolicy's values (a test keeps them equal).
ReturnPolicyName = Literal["no_reason_7d", "quality_only", "exchange_only", "no_returns"]


class ConsoleShopOut(ShopOut):
    host: str
    default_return_policy: str


class ShopPatchIn(In):
    name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)
    slogan: str | None = Field(None, max_length=120)
    audience: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)
    default_return_policy: ReturnPolicyName | None = None


class DashboardOut(Schema):
    products: int
    on_sale: int
    draft: int
    off_shelf: int
    skus_sold_out: int
    categories: int


# --- categories and shipping -------------------------------------------------------------


class ConsoleCategoryOut(CategoryOut):
    position: int
    is_visible: bool


class ConsoleCategoryTreeOut(FromCategoryNode, ConsoleCategoryOut):
    children: list[ConsoleCategoryOut]


class CategoryIn(In):
    name: str = Field(max_length=30, pattern=NAME_PATTERN)
    parent_id: Id | None = None
    position: int = Field(0, ge=0, le=100_000)


class CategoryPatchIn(In):
    name: str | None = Field(None, max_length=30, pattern=NAME_PATTERN)
    position: int | None = Field(None, ge=0, le=100_000)
    is_visible: bool | None = None


class ShippingTemplateOut(Schema):
    id: int
    name: str
    base_fee_fen: int
    free_over_fen: int | None = Field(description="Free shipping from this subtotal, fen; null: never free.")
    remote_surcharge_fen: int
    remote_provinces: list[str]
    is_default: bool

    @staticmethod
    def resolve_base_fee_fen(obj):
        return obj.base_fee

    @staticmethod
    def resolve_free_over_fen(obj):
        return obj.free_over

    @staticmethod
    def resolve_remote_surcharge_fen(obj):
        return obj.remote_surcharge


# A province name as the services keep it (at most 10 characters once trimmed; blank ones are dropped).
Province = Annotated[str, Field(max_length=10)]


class ShippingTemplateIn(In):
    name: str = Field(max_length=40, pattern=NAME_PATTERN)
    base_fee_fen: Fen = 0
    free_over_fen: Fen | None = None
    remote_surcharge_fen: Fen = 0
    remote_provinces: list[Province] | None = Field(None, max_length=34, description="Default: the usual remote list.")
    is_default: bool = False


class ShippingTemplatePatchIn(In):
    name: str | None = Field(None, max_length=40, pattern=NAME_PATTERN)
    base_fee_fen: Fen | None = None
    free_over_fen: Fen | None = None
    remote_surcharge_fen: Fen | None = None
    remote_provinces: list[Province] | None = Field(None, max_length=34)
    is_default: bool | None = None


# --- products ----------------------------------------------------------------------------


class ConsoleSkuOut(Schema):
    id: int
    spec_key: str
    spec_values: list[str]
    code: str
    price_fen: int
    list_price_fen: int | None
    cost_price_fen: int | None
    stock: int
    is_active: bool

    @staticmethod
    def resolve_price_fen(obj):
        return obj.price

    @staticmethod
    def resolve_list_price_fen(obj):
        return obj.list_price

    @staticmethod
    def resolve_cost_price_fen(obj):
        return obj.cost_price


class ConsoleProductRowOut(ProductBaseOut):
    status: str
    stock_total: int
    category: CategoryOut | None
    featured_position: int | None
    updated_at: datetime

    @staticmethod
    def resolve_stock_total(obj):
        return getattr(obj, "stock_total", None) or 0


class ConsoleProductPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConsoleProductRowOut]


class ConsoleProductFilterIn(PageIn):
    status: Literal["", "draft", "on_sale", "off_shelf"] = ""
    category: Id | None = None
    q: str = Field("", max_length=100)


class ConsoleProductOut(Schema):
    public_id: str
    name: str
    status: str
    description: str
    selling_points: list[str]
    category_id: int | None
    shipping_template_id: int | None
    return_policy: ReturnPolicyOut
    consumption_cycle_days: int | None
    spec_names: list[str]
    price_min_fen: int
    price_max_fen: int
    list_price_fen: int | None
    featured_position: int | None
    main_image_url: str | None
    thumb_url: str | None
    images: list[ImageOut]
    skus: list[ConsoleSkuOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_return_policy(obj):
        return ReturnPolicyOut.of(obj.return_policy)

    @staticmethod
    def resolve_price_min_fen(obj):
        return obj.price_min

    @staticmethod
    def resolve_price_max_fen(obj):
        return obj.price_max

    @staticmethod
    def resolve_list_price_fen(obj):
        return obj.list_price

    @staticmethod
    def resolve_main_image_url(obj, context):
        return media_url(obj.main_image, context)

    @staticmethod
    def resolve_thumb_url(obj, context):
        return media_url(obj.main_thumb, context)

    @staticmethod
    def resolve_images(obj):
        return list(obj.images.all())

    @staticmethod
    def resolve_skus(obj):
        return list(obj.skus.all())


SellingPoint = Annotated[str, Field(max_length=30)]


class _ProductFieldsIn(In):
    description: str | None = Field(None, max_length=5000)
    selling_points: list[SellingPoint] | None = Field(None, max_length=5)
    category_id: Id | None = Field(None, description="One of this shop's categories (404 otherwise).")
    shipping_template_id: Id | None = Field(None, description="One of this shop's templates (404 otherwise).")
    return_policy: ReturnPolicyName | None = None
    consumption_cycle_days: int | None = Field(None, ge=1, le=3650)


class ProductIn(_ProductFieldsIn):
    name: str = Field(max_length=60, pattern=NAME_PATTERN)
    price_fen: Fen = 0
    stock: int = Field(0, ge=0, le=MAX_STOCK)


class ProductPatchIn(_ProductFieldsIn):
    name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)


class ProductStatusIn(In):
    status: Literal["draft", "on_sale", "off_shelf"]
    reason: str = Field("", max_length=200)


class SpecIn(In):
    name: str = Field(max_length=10, description="e.g. 颜色")
    values: list[str] = Field(max_length=30, description="e.g. [红, 蓝]")


class SpecsIn(In):
    specs: list[SpecIn] = Field(max_length=3)


class SkuPatchIn(In):
    id: Id
    price_fen: Fen | None = None
    list_price_fen: Fen | None = None
    cost_price_fen: Fen | None = None
    stock: int | None = Field(None, ge=0, le=MAX_STOCK)
    code: str | None = Field(None, max_length=40)
    is_active: bool | None = None


class SkusPatchIn(In):
    skus: list[SkuPatchIn] = Field(min_length=1, max_length=300)


class StockAdjustIn(In):
    delta: int = Field(ge=-MAX_STOCK, le=MAX_STOCK, description="Units to add (negative: remove).")
    reason: str = Field("", max_length=200)


class StockOut(Schema):
    sku_id: int
    stock: int


class FeaturedIn(In):
    product_ids: list[str] = Field(
        max_length=MAX_FEATURED,
        description="Public ids of products on sale, in display order (404 for one that is not this shop's, "
        "409 for one not on sale).",
    )


# --- staff and tokens --------------------------------------------------------------------


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    role_label: str
    is_active: bool

    @staticmethod
    def resolve_username(obj):
        return obj.user.username

    @staticmethod
    def resolve_role_label(obj):
        return str(obj.get_role_display())


class TokenIn(In):
    name: str = Field("", max_length=60)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime


class TokenCreatedOut(TokenOut):
    key: str = Field(description="The bearer token. Shown only now; store it safely.")
