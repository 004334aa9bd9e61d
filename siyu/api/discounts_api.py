"""API operations for discounts: 满减 / 满折 activities, limited-time discounts, member prices.

Malformed input is 400; well-formed settings that do not fit together or with the shop's data (an
end not after the start or already past, tiers that do not rise, a price not below the SKU's, a SKU
already in another discount) are 409 `settings_conflict` with the fields in `detail`; unknown SKUs,
products, categories or levels are 404. A price below a SKU's minimum advertised price is 400
`below_price_floor` naming the floor, unless `override_reason` is given (audited).

`console_router` joins /api/v1/console/ (staff: promotions.view to read, promotions.manage to
change), `storefront_router` joins /api/v1/storefront/ (signed-in shoppers). Prices themselves
arrive in checkout quotes; the storefront operation says what a product's page would show."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.catalog.models import Product, ProductStatus
from siyu.core.errors import NotFound
from siyu.core.permissions import require
from siyu.promotions.discounts import limited, member_prices, selectors, thresholds
from siyu.promotions.discounts.models import LimitedTimeDiscount, ThresholdActivity
from siyu.promotions.discounts.rules import VIEW, phase
from siyu.promotions.results import promotion_results

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, MAX_FEN, NAME_PATTERN, Fen, Id, In, PageIn, page_of

console_router = Router(tags=["console discounts"], auth=staff_auth)
storefront_router = Router(tags=["storefront discounts"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[A-Za-z0-9_-]+$")]
Reason = Annotated[str, Field("", max_length=200, description="Needed for a price below a SKU's floor; audited.")]


# --- schemas -------------------------------------------------------------------------------


class TierIn(In):
    threshold: int = Field(ge=1, le=MAX_FEN, description="Spend at least this, fen.")
    value: int = Field(ge=1, le=MAX_FEN, description="Fen saved (amount mode) or basis points paid (rate mode).")


class ThresholdIn(In):
    name: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN)
    starts_at: datetime
    ends_at: datetime
    scope: Literal["all", "categories", "products"] = "all"
    category_ids: list[Id] = Field(default_factory=list, max_length=200)
    product_ids: list[PublicId] = Field(default_factory=list, max_length=200)
    excluded_products: list[PublicId] = Field(default_factory=list, max_length=200)
    mode: Literal["amount", "rate"] = "amount"
    tiers: list[TierIn] = Field(min_length=1, max_length=5)
    repeat: bool = False
    repeat_cap: Fen = 0
    stacks_with_coupons: bool = True

    def service_data(self) -> dict:
        data = self.dict(exclude={"category_ids", "product_ids"})
        data["scope_ids"] = self.category_ids if self.scope == "categories" else self.product_ids
        return data


class TierOut(Schema):
    threshold: int
    value: int


class ThresholdOut(Schema):
    id: str = Field(alias="public_id")
    name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    phase: str = Field(description="scheduled, running or ended.")
    scope: str
    mode: str
    tiers: list[TierOut]
    repeat: bool
    repeat_cap: int
    stacks_with_coupons: bool

    @staticmethod
    def resolve_phase(obj: ThresholdActivity | dict) -> str:
        return obj["phase"] if isinstance(obj, dict) else phase(obj)


class ThresholdDetailOut(ThresholdOut):
    category_ids: list[int]
    product_ids: list[str]
    excluded_products: list[str]


class ThresholdPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ThresholdOut]


class PriceItemIn(In):
    sku_id: Id
    price: Fen = Field(description="A fixed price, fen, below the SKU's own (409 otherwise).")


class PercentItemIn(In):
    sku_id: Id
    off_bp: int = Field(ge=1, le=9999, description="Basis points off the SKU's price (2000: 20% off).")


class LimitedIn(In):
    name: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN)
    starts_at: datetime
    ends_at: datetime
    per_customer_limit: int = Field(0, ge=0, le=999, description="Units per shopper at this price; 0: no limit.")
    items: list[PriceItemIn | PercentItemIn] = Field(min_length=1, max_length=200)
    override_reason: Reason = ""

    def service_data(self) -> dict:
        data = self.dict(exclude={"items"})
        data["items"] = [
            {"sku": i.sku_id, "price": i.price} if isinstance(i, PriceItemIn) else {"sku": i.sku_id, "off_bp": i.off_bp}
            for i in self.items
        ]
        return data


class LimitedItemOut(Schema):
    sku_id: int
    product_id: str
    product_name: str
    sku_label: str
    sku_price: int
    price: int | None
    off_bp: int | None
    final_price: int = Field(description="What the SKU sells at now in this discount, fen.")


class LimitedOut(Schema):
    id: str = Field(alias="public_id")
    name: str
    starts_at: datetime
    ends_at: datetime
    status: str
    phase: str
    per_customer_limit: int

    @staticmethod
    def resolve_phase(obj: LimitedTimeDiscount) -> str:
        return phase(obj)


class LimitedDetailOut(LimitedOut):
    items: list[LimitedItemOut]

    @staticmethod
    def resolve_items(obj: LimitedTimeDiscount) -> list[dict]:
        return [
            {
                "sku_id": i.sku_id,
                "product_id": i.sku.product.public_id,
                "product_name": i.sku.product.name,
                "sku_label": i.sku.label,
                "sku_price": i.sku.price,
                "price": i.price,
                "off_bp": i.off_bp,
                "final_price": limited.item_price(i, i.sku.price),
            }
            for i in obj.items.all()
        ]


class LimitedPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[LimitedOut]


class PriceCellIn(In):
    sku_id: Id
    level_id: Id
    price: Fen


class MemberPricesIn(In):
    prices: list[PriceCellIn] = Field(max_length=2000, description="The whole matrix; cells left out have none.")
    override_reason: Reason = ""


class DiscountLevelOut(Schema):
    id: int
    name: str
    discount_bp: int


class DiscountSkuOut(Schema):
    id: int
    label: str
    price: int


class PriceCellOut(Schema):
    sku_id: int
    level_id: int
    price: int


class MemberPricesOut(Schema):
    product_id: str
    levels: list[DiscountLevelOut]
    skus: list[DiscountSkuOut]
    prices: list[PriceCellOut]


class DiscountResultsOut(Schema):
    orders_placed: int
    orders_paid: int
    revenue: int = Field(description="Fen: paid − refunded on the paid orders.")
    discount: int = Field(description="Fen taken off on the paid orders.")
    new_customers: int
    returning_customers: int


class SkuDiscountOut(Schema):
    sku_id: int
    price: int
    sku_price: int
    name: str
    ends_at: datetime | None
    per_customer_limit: int


class ThresholdBriefOut(Schema):
    id: str
    name: str
    ends_at: datetime
    tiers: list[str]
    stacks_with_coupons: bool


class ProductDiscountsOut(Schema):
    limited_time: list[SkuDiscountOut]
    member_prices: list[SkuDiscountOut]
    level_name: str
    thresholds: list[ThresholdBriefOut]


class DiscountFilterIn(PageIn):
    pass


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/products/{public_id}/discounts", response={200: ProductDiscountsOut, **ERRORS})
def storefront_product_discounts(request, public_id: PublicId):
    """Running limited-time prices of the product's SKUs, the shopper's member prices and the
    满减 activities the product counts toward."""
    product = Product.objects.filter(shop=request.shop, public_id=public_id, status=ProductStatus.ON_SALE).first()
    if product is None:
        raise NotFound(detail={"product": public_id})
    found = selectors.product_discounts(
        shop=request.shop, product=product, skus=list(product.skus.filter(is_active=True)), shopper=request.auth
    )
    return {
        "limited_time": found.limited,
        "member_prices": found.member,
        "level_name": found.level_name,
        "thresholds": [
            {
                "id": a.public_id,
                "name": a.name,
                "ends_at": a.ends_at,
                "tiers": tiers,
                "stacks_with_coupons": a.stacks_with_coupons,
            }
            for a, tiers in found.thresholds
        ],
    }


# --- console: 满减 / 满折 ------------------------------------------------------------------


def _can_view(request) -> None:
    require(request.auth, VIEW, shop_id=request.shop.pk)


def _threshold_detail(request, activity: ThresholdActivity) -> dict:
    names = selectors.product_names(shop=request.shop, ids=[*activity.scope_ids, *activity.excluded_ids])
    fields = ("public_id", "name", "starts_at", "ends_at", "status", "scope", "mode", "tiers", "repeat", "repeat_cap")
    out = {name: getattr(activity, name) for name in fields}
    out.update(phase=phase(activity), stacks_with_coupons=activity.stacks_with_coupons)
    by_products = activity.scope == "products"
    out["category_ids"] = [] if by_products else list(activity.scope_ids)
    out["product_ids"] = [names[pk][0] for pk in activity.scope_ids if pk in names] if by_products else []
    out["excluded_products"] = [names[pk][0] for pk in activity.excluded_ids if pk in names]
    return out


@console_router.get("/discounts/thresholds", response={200: ThresholdPage, **ERRORS})
def console_thresholds(request, q: Query[DiscountFilterIn]):
    _can_view(request)
    return page_of(thresholds.thresholds_of(shop=request.shop), q)


@console_router.post("/discounts/thresholds", response={201: ThresholdDetailOut, **ERRORS})
def console_threshold_create(request, data: ThresholdIn):
    activity = thresholds.threshold_save(actor=request.auth, shop=request.shop, data=data.service_data())
    return Status(201, _threshold_detail(request, activity))


@console_router.get("/discounts/thresholds/{activity_id}", response={200: ThresholdDetailOut, **ERRORS})
def console_threshold(request, activity_id: PublicId):
    _can_view(request)
    return _threshold_detail(request, thresholds.threshold_of(shop=request.shop, activity_id=activity_id))


@console_router.put("/discounts/thresholds/{activity_id}", response={200: ThresholdDetailOut, **ERRORS})
def console_threshold_update(request, activity_id: PublicId, data: ThresholdIn):
    """Change an activity (409 once ended)."""
    activity = thresholds.threshold_save(
        actor=request.auth, shop=request.shop, data=data.service_data(), activity_id=activity_id
    )
    return _threshold_detail(request, activity)


@console_router.post("/discounts/thresholds/{activity_id}/end", response={200: ThresholdDetailOut, **ERRORS})
def console_threshold_end(request, activity_id: PublicId):
    activity = thresholds.threshold_end(actor=request.auth, shop=request.shop, activity_id=activity_id)
    return _threshold_detail(request, activity)


@console_router.get("/discounts/thresholds/{activity_id}/results", response={200: DiscountResultsOut, **ERRORS})
def console_threshold_results(request, activity_id: PublicId):
    _can_view(request)
    activity = thresholds.threshold_of(shop=request.shop, activity_id=activity_id)
    return promotion_results(shop=request.shop, kind="threshold_discount", ref=activity.public_id)


# --- console: limited-time discounts -------------------------------------------------------


@console_router.get("/discounts/limited-time", response={200: LimitedPage, **ERRORS})
def console_limiteds(request, q: Query[DiscountFilterIn]):
    _can_view(request)
    return page_of(limited.limiteds_of(shop=request.shop), q)


@console_router.post("/discounts/limited-time", response={201: LimitedDetailOut, **ERRORS})
def console_limited_create(request, data: LimitedIn):
    discount = limited.limited_save(actor=request.auth, shop=request.shop, data=data.service_data())
    return Status(201, limited.limited_of(shop=request.shop, discount_id=discount.public_id))


@console_router.get("/discounts/limited-time/{discount_id}", response={200: LimitedDetailOut, **ERRORS})
def console_limited(request, discount_id: PublicId):
    _can_view(request)
    return limited.limited_of(shop=request.shop, discount_id=discount_id)


@console_router.put("/discounts/limited-time/{discount_id}", response={200: LimitedDetailOut, **ERRORS})
def console_limited_update(request, discount_id: PublicId, data: LimitedIn):
    limited.limited_save(actor=request.auth, shop=request.shop, data=data.service_data(), discount_id=discount_id)
    return limited.limited_of(shop=request.shop, discount_id=discount_id)


@console_router.post("/discounts/limited-time/{discount_id}/end", response={200: LimitedDetailOut, **ERRORS})
def console_limited_end(request, discount_id: PublicId):
    limited.limited_end(actor=request.auth, shop=request.shop, discount_id=discount_id)
    return limited.limited_of(shop=request.shop, discount_id=discount_id)


@console_router.get("/discounts/limited-time/{discount_id}/results", response={200: DiscountResultsOut, **ERRORS})
def console_limited_results(request, discount_id: PublicId):
    _can_view(request)
    discount = limited.limited_of(shop=request.shop, discount_id=discount_id)
    return promotion_results(shop=request.shop, kind=limited.KIND, ref=discount.public_id)


# --- console: member prices ----------------------------------------------------------------


def _matrix(request, product: Product) -> dict:
    matrix = selectors.member_price_matrix(shop=request.shop, product=product)
    return {
        "product_id": product.public_id,
        "levels": matrix.levels,
        "skus": [{"id": s.pk, "label": s.label, "price": s.price} for s in matrix.skus],
        "prices": [{"sku_id": s, "level_id": lv, "price": p} for (s, lv), p in sorted(matrix.prices.items())],
    }


@console_router.get("/discounts/member-prices/{product_id}", response={200: MemberPricesOut, **ERRORS})
def console_member_prices(request, product_id: PublicId):
    _can_view(request)
    return _matrix(request, member_prices.product_for_prices(shop=request.shop, public_id=product_id))


@console_router.put("/discounts/member-prices/{product_id}", response={200: MemberPricesOut, **ERRORS})
def console_member_prices_set(request, product_id: PublicId, data: MemberPricesIn):
    """Replace the product's member-price matrix (a price must be below the SKU's own)."""
    product = member_prices.product_for_prices(shop=request.shop, public_id=product_id)
    member_prices.member_prices_set(
        actor=request.auth,
        shop=request.shop,
        product=product,
        prices=[{"sku": c.sku_id, "level": c.level_id, "price": c.price} for c in data.prices],
        override_reason=data.override_reason,
    )
    return _matrix(request, product)


@console_router.get("/discounts/member-prices/levels/{level_id}/results", response={200: DiscountResultsOut, **ERRORS})
def console_member_price_results(request, level_id: Id):
    """Orders with a line sold at this level's member price."""
    _can_view(request)
    if not request.shop.member_levels.filter(pk=level_id).exists():
        raise NotFound(detail={"level": level_id})
    return promotion_results(shop=request.shop, kind=member_prices.KIND, ref=str(level_id))
