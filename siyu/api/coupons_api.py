"""API operations for coupons.

`console_router` joins /api/v1/console/ (staff: promotions.view to read, promotions.manage to
change), `storefront_router` joins /api/v1/storefront/ (the signed-in shopper's own coupons only).
Amounts are fen, rates basis points; every rule is in siyu.promotions.coupons."""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema

from siyu.promotions.coupons import grants as coupon_grants
from siyu.promotions.coupons import selectors, services
from siyu.promotions.results import promotion_results

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, Id, In, PageIn, page_of

console_router = Router(tags=["console coupons"], auth=staff_auth)
storefront_router = Router(tags=["storefront coupons"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[a-z0-9]+$")]
Fen = Annotated[int, Field(ge=0, le=100_000_000)]
Ids = Annotated[list[Annotated[int, Field(ge=1, le=2**53)]], Field(max_length=200)]


class _CouponBase(In):
    """What every coupon says. The scope follows from the lists: products if `product_ids`, else
    categories if `category_ids`, else everything (less `excluded_product_ids`). Validity: until
    `valid_until`, or `valid_days` after each claim (30 days when neither is given)."""

    name: Annotated[str, Field(min_length=1, max_length=40)]
    category_ids: Ids = []
    product_ids: Ids = []
    excluded_product_ids: Ids = []
    valid_until: datetime | None = None
    valid_days: Annotated[int, Field(ge=1, le=366)] | None = None
    total: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    per_customer: Annotated[int, Field(ge=1, le=100)] = 1
    public: bool = True
    rule: Literal["", "first_order", "birthday", "level_up", "referrer", "referee"] = ""


class AmountOffIn(_CouponBase):
    kind: Literal["amount_off"]
    amount_off: Annotated[int, Field(ge=1, le=100_000_000)]
    min_spend: Annotated[int, Field(ge=1, le=100_000_000)]


class NoThresholdIn(_CouponBase):
    kind: Literal["no_threshold"]
    amount_off: Annotated[int, Field(ge=1, le=100_000_000)]


class PercentOffIn(_CouponBase):
    kind: Literal["percent_off"]
    percent_off_bp: Annotated[int, Field(ge=1, le=9999)]
    max_off: Fen = 0
    min_spend: Fen = 0


class FreeShippingIn(_CouponBase):
    kind: Literal["free_shipping"]
    min_spend: Fen = 0


CouponIn = AmountOffIn | NoThresholdIn | PercentOffIn | FreeShippingIn


def _definition(data) -> dict:
    found = data.dict()
    found["scope"] = "products" if found["product_ids"] else "categories" if found["category_ids"] else "all"
    if not found.get("valid_days") and not found.get("valid_until"):
        found["valid_days"] = 30
    return found


class CouponPatchIn(In):
    name: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    public: bool | None = None
    total: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    per_customer: Annotated[int, Field(ge=1, le=100)] | None = None


class CouponOut(Schema):
    public_id: str
    name: str
    kind: str
    status: str
    amount_off: int
    percent_off_bp: int
    max_off: int
    min_spend: int
    scope: str
    category_ids: list[int]
    product_ids: list[int]
    excluded_product_ids: list[int]
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    total: int | None
    claimed: int
    per_customer: int
    public: bool
    rule: str


class CouponPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CouponOut]


class CouponFilterIn(PageIn):
    status: Literal["", "draft", "active", "ended"] = ""


class EndIn(In):
    void_grants: bool = False


class PushIn(In):
    segment_id: Id


class PushOut(Schema):
    id: int
    segment_name: str
    status: str
    total: int
    done: int
    granted: int
    skipped: int
    note: str
    percent: int


class CouponResultsOut(Schema):
    orders_placed: int
    orders_paid: int
    revenue: int
    discount: int
    discount_placed: int
    new_customers: int
    returning_customers: int


def _coupon(request, public_id: str):
    return selectors.coupon_for_staff(actor=request.auth, shop=request.shop, public_id=public_id)


@console_router.get("/coupons", response={200: CouponPage, **ERRORS})
def coupons_list(request, q: Query[CouponFilterIn]):
    return page_of(selectors.coupons_for_staff(actor=request.auth, shop=request.shop, status=q.status), q)


@console_router.post("/coupons", response={201: CouponOut, **ERRORS})
def coupon_create(request, data: CouponIn):
    """A new coupon, as a draft: start it to give it out."""
    return 201, services.coupon_create(actor=request.auth, shop=request.shop, data=_definition(data))


@console_router.get("/coupons/{public_id}", response={200: CouponOut, **ERRORS})
def coupon_detail(request, public_id: PublicId):
    return _coupon(request, public_id)


@console_router.patch("/coupons/{public_id}", response={200: CouponOut, **ERRORS})
def coupon_patch(request, public_id: PublicId, data: CouponPatchIn):
    """A running coupon may change its name, visibility, total and per-customer limit."""
    changes = data.dict(exclude_unset=True, exclude_none=True)
    return services.coupon_update(actor=request.auth, coupon=_coupon(request, public_id), data=changes)


@console_router.post("/coupons/{public_id}/start", response={200: CouponOut, **ERRORS})
def coupon_start(request, public_id: PublicId):
    return services.coupon_activate(actor=request.auth, coupon=_coupon(request, public_id))


@console_router.post("/coupons/{public_id}/end", response={200: CouponOut, **ERRORS})
def coupon_end(request, public_id: PublicId, data: EndIn):
    return services.coupon_end(actor=request.auth, coupon=_coupon(request, public_id), void_grants=data.void_grants)


@console_router.post("/coupons/{public_id}/pushes", response={201: PushOut, **ERRORS})
def coupon_push(request, public_id: PublicId, data: PushIn):
    """Give the coupon to every member of a saved segment (the worker does it in batches)."""
    return 201, coupon_grants.coupon_push_start(
        actor=request.auth, coupon=_coupon(request, public_id), segment_id=data.segment_id
    )


@console_router.get("/coupons/{public_id}/pushes", response={200: list[PushOut], **ERRORS})
def coupon_pushes(request, public_id: PublicId):
    return selectors.pushes_of_coupon(coupon=_coupon(request, public_id))


@console_router.get("/coupons/{public_id}/results", response={200: CouponResultsOut, **ERRORS})
def coupon_results(request, public_id: PublicId):
    """Orders, revenue (paid − refunded), discount given and new vs returning customers."""
    coupon = _coupon(request, public_id)
    return promotion_results(shop=request.shop, kind="coupon", ref=coupon.public_id)


# --- storefront ----------------------------------------------------------------------------


class CentreCouponOut(Schema):
    public_id: str
    name: str
    kind: str
    amount_off: int
    percent_off_bp: int
    max_off: int
    min_spend: int
    valid_until: datetime | None
    valid_days: int | None
    left: int | None
    per_customer: int
    mine: int


class GrantOut(Schema):
    code: str = Field(alias="public_id")
    coupon: str = Field(alias="coupon.public_id")
    name: str = Field(alias="coupon.name")
    kind: str = Field(alias="coupon.kind")
    amount_off: int = Field(alias="coupon.amount_off")
    percent_off_bp: int = Field(alias="coupon.percent_off_bp")
    min_spend: int = Field(alias="coupon.min_spend")
    status: str
    source: str
    valid_from: datetime
    valid_until: datetime


class GrantPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[GrantOut]


class ClaimIn(In):
    ref: Annotated[str, Field(max_length=12, pattern="^[a-z0-9]*$")] = ""


class MyCouponsIn(PageIn):
    tab: Literal["available", "used", "expired"] = "available"


@storefront_router.get("/coupons", response={200: list[CentreCouponOut], **ERRORS})
def coupon_centre(request):
    """The coupon centre: running public coupons, with how many of each the shopper holds."""
    return selectors.centre_coupons(shop=request.shop, shopper=request.auth)


@storefront_router.post("/coupons/{public_id}/claim", response={201: GrantOut, **ERRORS})
def coupon_claim(request, public_id: PublicId, data: ClaimIn):
    """Claim a coupon: from the centre, or (with the sharer's `ref`) a link-only one."""
    source = "link" if data.ref else "centre"
    grant = services.coupon_claim(
        shop=request.shop, shopper=request.auth, public_id=public_id, source=source, sharer_code=data.ref
    )
    return 201, grant


@storefront_router.get("/my/coupons", response={200: GrantPage, **ERRORS})
def my_coupons(request, q: Query[MyCouponsIn]):
    return page_of(selectors.grants_of_shopper(shop=request.shop, shopper=request.auth, tab=q.tab), q)
