"""What shoppers send and see. Never a cost price, never another shopper's data."""

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from siyu.catalog.models import Category, ProductStatus, ReturnPolicy
from siyu.catalog.selectors import CategoryNode

from .schemas import Id, In, PageIn, Phone, media_url

_POLICY_LABELS = dict(ReturnPolicy.choices)


class ReturnPolicyOut(Schema):
    code: str
    label: str
    allows_returns: bool

    @staticmethod
    def of(code: str) -> dict:
        return {
            "code": code,
            "label": str(_POLICY_LABELS.get(code, code)),
            "allows_returns": code != "no_returns",
        }


class ShopOut(Schema):
    slug: str
    name: str
    slogan: str
    audience: str
    description: str
    logo_url: str | None
    banner_url: str | None
    banner_thumb_url: str | None
    return_policy: ReturnPolicyOut

    @staticmethod
    def resolve_logo_url(obj, context):
        return media_url(obj.logo, context)

    @staticmethod
    def resolve_banner_url(obj, context):
        return media_url(obj.banner, context)

    @staticmethod
    def resolve_banner_thumb_url(obj, context):
        return media_url(obj.banner_thumb, context)

    @staticmethod
    def resolve_return_policy(obj):
        return ReturnPolicyOut.of(obj.default_return_policy)


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None


class FromCategoryNode(Schema):
    """A tree row read from a `catalog.selectors.CategoryNode`: the top category's own fields
    (those a schema names), and its sub-categories as `children`."""

    @staticmethod
    def resolve_id(node: CategoryNode) -> int:
        return node.category.pk

    @staticmethod
    def resolve_name(node: CategoryNode) -> str:
        return node.category.name

    @staticmethod
    def resolve_parent_id(node: CategoryNode) -> None:
        return None  # a top category

    @staticmethod
    def resolve_position(node: CategoryNode) -> int:
        return node.category.position

    @staticmethod
    def resolve_is_visible(node: CategoryNode) -> bool:
        return node.category.is_visible

    @staticmethod
    def resolve_children(node: CategoryNode) -> list[Category]:
        return node.subs


class CategoryTreeOut(FromCategoryNode):
    id: int
    name: str
    children: list[CategoryOut]


class ProductBaseOut(Schema):
    """What every product row shows, for shoppers and staff alike."""

    public_id: str
    name: str
    thumb_url: str | None
    price_min_fen: int = Field(description="Lowest SKU price, fen.")
    price_max_fen: int = Field(description="Highest SKU price, fen.")

    @staticmethod
    def resolve_thumb_url(obj, context):
        return media_url(obj.main_thumb, context)

    @staticmethod
    def resolve_price_min_fen(obj):
        return obj.price_min

    @staticmethod
    def resolve_price_max_fen(obj):
        return obj.price_max


class ProductCardOut(ProductBaseOut):
    list_price_fen: int | None = Field(description="Crossed-out reference price, fen.")
    selling_points: list[str]
    category_id: int | None

    @staticmethod
    def resolve_list_price_fen(obj):
        return obj.list_price


class ProductPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProductCardOut]


class ProductFilterIn(PageIn):
    category: Id | None = Field(None, description="Category id; a top category includes its children.")
    q: str = Field("", max_length=100, description="Words in the product name.")


class HomeOut(Schema):
    shop: ShopOut
    featured: list[ProductCardOut]
    categories: list[CategoryTreeOut]


class SkuOut(Schema):
    id: int
    spec_values: list[str]
    label: str
    price_fen: int
    list_price_fen: int | None
    stock_state: Literal["in_stock", "sold_out"]

    @staticmethod
    def resolve_price_fen(obj):
        return obj.price

    @staticmethod
    def resolve_list_price_fen(obj):
        return obj.list_price

    @staticmethod
    def resolve_stock_state(obj):
        return "in_stock" if obj.stock > 0 else "sold_out"


class ImageOut(Schema):
    url: str | None
    thumb_url: str | None

    @staticmethod
    def resolve_url(obj, context):
        return media_url(obj.image, context)

    @staticmethod
    def resolve_thumb_url(obj, context):
        return media_url(obj.thumb, context)


class ShippingOut(Schema):
    base_fee_fen: int
    free_over_fen: int | None
    remote_surcharge_fen: int
    remote_provinces: list[str]

    @staticmethod
    def resolve_base_fee_fen(obj):
        return obj.base_fee

    @staticmethod
    def resolve_free_over_fen(obj):
        return obj.free_over

    @staticmethod
    def resolve_remote_surcharge_fen(obj):
        return obj.remote_surcharge


class ProductDetailOut(ProductCardOut):
    description: str
    status: str
    can_buy: bool
    spec_names: list[str]
    main_image_url: str | None
    images: list[ImageOut]
    skus: list[SkuOut]
    return_policy: ReturnPolicyOut
    category: CategoryOut | None
    shipping: ShippingOut | None

    @staticmethod
    def resolve_can_buy(obj):
        return obj.status == ProductStatus.ON_SALE

    @staticmethod
    def resolve_main_image_url(obj, context):
        return media_url(obj.main_image, context)

    @staticmethod
    def resolve_images(obj):
        return obj.detail_images

    @staticmethod
    def resolve_skus(obj):
        return obj.active_skus

    @staticmethod
    def resolve_return_policy(obj):
        return ReturnPolicyOut.of(obj.return_policy)

    @staticmethod
    def resolve_shipping(obj):
        return obj.shipping_template


# --- sign-in and the shopper's own data --------------------------------------------------


class OtpIn(In):
    phone: Phone


class OtpOut(Schema):
    expires_at: datetime


class LoginIn(In):
    phone: Phone
    code: str = Field(min_length=6, max_length=6, pattern="^[0-9]{6}", description="The 6-digit code sent by SMS.")


class MeOut(Schema):
    nickname: str
    masked_phone: str
    share_code: str


class LoginOut(Schema):
    token: str = Field(description="Bearer token for this shop: `Authorization: Bearer <token>`. Shown once.")
    shopper: MeOut


class MePatchIn(In):
    nickname: str = Field(max_length=40)


class CsrfOut(Schema):
    csrf_token: str


class AddressIn(In):
    recipient: str = Field(max_length=40)
    phone: Phone
    province: str = Field(max_length=20)
    city: str = Field(max_length=30)
    district: str = Field(max_length=30)
    detail: str = Field(max_length=200, description="Street address.")
    is_default: bool = False


class AddressOut(Schema):
    public_id: str
    recipient: str
    masked_phone: str
    province: str
    city: str
    district: str
    detail: str
    is_default: bool


class AddressDetailOut(AddressOut):
    phone: str
