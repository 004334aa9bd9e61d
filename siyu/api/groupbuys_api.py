"""API operations for group buys (拼团).

`console_router` joins /api/v1/console/ (staff: promotions.view to read, promotions.manage to
change), `storefront_router` joins /api/v1/storefront/ (signed-in shoppers). Buying goes through
the ordinary checkout, `POST /storefront/orders` with `promotion: "group_buy:<campaign>"` to open
a group or `"group_buy:<campaign>:<group>"` to join one."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.catalog.models import Product
from siyu.core.errors import NotFound
from siyu.core.permissions import require
from siyu.promotions.groupbuys import campaigns as services
from siyu.promotions.groupbuys import selectors
from siyu.promotions.groupbuys.models import Group, GroupBuy, GroupMember
from siyu.promotions.results import promotion_results

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, MAX_FEN, MAX_ID, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console groupbuys"], auth=staff_auth)
storefront_router = Router(tags=["storefront groupbuys"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=20, pattern="^[a-z0-9]+$")]


class GroupBuyMemberOut(Schema):
    name: str = Field(description="Nickname or masked phone; empty for a virtual member.")
    initial: str = Field(description="What an avatar shows.")
    is_leader: bool
    is_virtual: bool = Field(description="Added by auto-fill at the deadline, not a person.")

    @staticmethod
    def resolve_name(obj: GroupMember) -> str:
        return obj.display_name

    @staticmethod
    def resolve_initial(obj: GroupMember) -> str:
        return (obj.display_name or "?")[:1]


class GroupBuyGroupOut(Schema):
    id: str = Field(alias="public_id")
    status: str = Field(description="open, formed or failed.")
    size: int
    joined: int
    missing: int
    deadline: datetime
    promotion: str = Field(description='What to send to checkout as "promotion" to join.')
    members: list[GroupBuyMemberOut]

    @staticmethod
    def resolve_promotion(obj: Group) -> str:
        return f"group_buy:{obj.campaign.public_id}:{obj.public_id}"

    @staticmethod
    def resolve_members(obj: Group) -> list:
        return list(obj.shown_members)  # type: ignore[attr-defined]  # Prefetch(to_attr=…)


class GroupBuyPriceOut(Schema):
    sku_id: int
    group_price: int = Field(description="Fen.")


class GroupBuyOut(Schema):
    id: str = Field(alias="public_id")
    name: str
    product_id: str = Field(description="The product's public id.")
    group_size: int
    hours: int
    starts_at: datetime
    ends_at: datetime
    per_customer_limit: int
    auto_fill: bool
    is_active: bool
    promotion: str = Field(description='What to send to checkout as "promotion" to open a group.')
    prices: list[GroupBuyPriceOut]

    @staticmethod
    def resolve_product_id(obj: GroupBuy) -> str:
        return obj.product.public_id

    @staticmethod
    def resolve_promotion(obj: GroupBuy) -> str:
        return f"group_buy:{obj.public_id}"

    @staticmethod
    def resolve_prices(obj: GroupBuy) -> list:
        return list(obj.prices.all())


class GroupBuyForProductOut(Schema):
    campaign: GroupBuyOut
    lowest_price: int = Field(description="Fen.")
    joinable: list[GroupBuyGroupOut]


class GroupBuyGroupDetailOut(GroupBuyGroupOut):
    campaign: GroupBuyOut


class MyGroupBuyOut(Schema):
    order_id: str = Field(description="The order's public id.")
    status: str = Field(description="pending, joined, refunding, refunded or cancelled.")
    why: str
    is_leader: bool
    campaign_name: str
    group_id: str | None
    group_status: str | None

    @staticmethod
    def resolve_order_id(obj: GroupMember) -> str:
        return obj.order.public_id if obj.order else ""

    @staticmethod
    def resolve_campaign_name(obj: GroupMember) -> str:
        return obj.campaign.name

    @staticmethod
    def resolve_group_id(obj: GroupMember) -> str | None:
        return obj.group.public_id if obj.group else None

    @staticmethod
    def resolve_group_status(obj: GroupMember) -> str | None:
        return obj.group.status if obj.group else None


class MyGroupBuyPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[MyGroupBuyOut]


# --- storefront ----------------------------------------------------------------------------


@storefront_router.get("/group-buys/products/{product_id}", response={200: GroupBuyForProductOut, **ERRORS})
def storefront_product_group_buy(request, product_id: PublicId):
    """The product's running group buy and open groups to join (404 when none runs)."""
    product = Product.objects.filter(shop=request.shop, public_id=product_id).first()
    found = selectors.running_campaign_for_product(shop=request.shop, product=product) if product else None
    if found is None:
        raise NotFound(detail={"product": product_id})
    return {"campaign": found.campaign, "lowest_price": found.lowest_price, "joinable": found.joinable}


@storefront_router.get("/group-buys/groups/{group_id}", response={200: GroupBuyGroupDetailOut, **ERRORS})
def storefront_group(request, group_id: PublicId):
    """One group: its campaign, members (virtual ones marked) and time left."""
    return selectors.group_for_page(shop=request.shop, public_id=group_id)


@storefront_router.get("/group-buys/mine", response={200: MyGroupBuyPage, **ERRORS})
def storefront_my_groups(request, q: Query[PageIn]):
    """The signed-in shopper's group-buy orders, newest first."""
    return page_of(selectors.my_group_members(shop=request.shop, shopper=request.auth), q)


# --- console -------------------------------------------------------------------------------


class GroupBuyPriceIn(In):
    sku_id: int = Field(ge=1, le=MAX_ID, description="A SKU of the campaign's product (404 otherwise).")
    group_price: int = Field(ge=1, le=MAX_FEN, description="Fen, below the SKU's own price (409 otherwise).")


GroupBuyPrices = Annotated[
    list[GroupBuyPriceIn], Field(min_length=1, max_length=100, description="Each SKU once (409 otherwise).")
]


class GroupBuyIn(In):
    """A campaign. Malformed values are 400; an unknown product or SKU is 404; values that do not fit
    together (an end not after the start, a group price not below its SKU's, a SKU twice, a year
    outside 2000–2100) are 409 settings_conflict with the fields in `detail`."""

    name: str = Field(min_length=1, max_length=60, pattern=NAME_PATTERN)
    product_id: PublicId
    prices: GroupBuyPrices
    group_size: int = Field(ge=2, le=50)
    hours: int = Field(24, ge=1, le=720, description="Time a group has to form.")
    starts_at: datetime
    ends_at: datetime = Field(description="After starts_at (409 otherwise).")
    per_customer_limit: int = Field(1, ge=1, le=99)
    auto_fill: bool = Field(
        False, description="Complete a group short at its deadline with virtual members, shown as such."
    )


class GroupBuyChangeIn(In):
    """What to change; the rest stays. Groups already open keep their size and deadline."""

    name: str | None = Field(None, min_length=1, max_length=60, pattern=NAME_PATTERN)
    prices: GroupBuyPrices | None = None
    group_size: int | None = Field(None, ge=2, le=50)
    hours: int | None = Field(None, ge=1, le=720)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    per_customer_limit: int | None = Field(None, ge=1, le=99)
    auto_fill: bool | None = None


class GroupBuyPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[GroupBuyOut]


class GroupBuyFilterIn(PageIn):
    status: str = Field("", max_length=12, pattern="^(|running|scheduled|ended)$")


class GroupBuyGroupStaffOut(Schema):
    id: str = Field(alias="public_id")
    status: str
    size: int
    joined: int
    leader: str
    deadline: datetime
    created_at: datetime
    formed_at: datetime | None
    failed_at: datetime | None

    @staticmethod
    def resolve_leader(obj: Group) -> str:
        return str(obj.leader)


class GroupBuyGroupPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[GroupBuyGroupStaffOut]


class GroupBuyGroupFilterIn(PageIn):
    status: str = Field("", max_length=10, pattern="^(|open|formed|failed)$")


class GroupBuyResultsOut(Schema):
    orders_placed: int
    orders_paid: int
    revenue: int = Field(description="Fen: paid − refunded on the paid orders.")
    discount: int = Field(description="Fen taken off on the paid orders.")
    new_customers: int
    returning_customers: int


def _can_view(request) -> None:
    require(request.auth, "promotions.view", shop_id=request.shop.pk)


@console_router.get("/group-buys", response={200: GroupBuyPage, **ERRORS})
def console_group_buys(request, q: Query[GroupBuyFilterIn]):
    _can_view(request)
    return page_of(selectors.campaigns_for_staff(shop=request.shop, status=q.status).prefetch_related("prices"), q)


@console_router.post("/group-buys", response={201: GroupBuyOut, **ERRORS})
def console_group_buy_create(request, data: GroupBuyIn):
    fields = data.dict()
    fields["product"] = fields.pop("product_id")
    campaign = services.groupbuy_create(actor=request.auth, shop=request.shop, data=fields)
    return Status(201, selectors.campaign_for_staff(shop=request.shop, public_id=campaign.public_id))


@console_router.get("/group-buys/{campaign_id}", response={200: GroupBuyOut, **ERRORS})
def console_group_buy(request, campaign_id: PublicId):
    _can_view(request)
    return selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)


@console_router.patch("/group-buys/{campaign_id}", response={200: GroupBuyOut, **ERRORS})
def console_group_buy_update(request, campaign_id: PublicId, data: GroupBuyChangeIn):
    changes = data.dict(exclude_none=True)
    services.groupbuy_update(actor=request.auth, shop=request.shop, public_id=campaign_id, data=changes)
    return selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)


@console_router.post("/group-buys/{campaign_id}/stop", response={200: GroupBuyOut, **ERRORS})
def console_group_buy_stop(request, campaign_id: PublicId):
    services.groupbuy_stop(actor=request.auth, shop=request.shop, public_id=campaign_id)
    return selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)


@console_router.get("/group-buys/{campaign_id}/groups", response={200: GroupBuyGroupPage, **ERRORS})
def console_group_buy_groups(request, campaign_id: PublicId, q: Query[GroupBuyGroupFilterIn]):
    _can_view(request)
    campaign = selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)
    return page_of(selectors.groups_for_staff(shop=request.shop, campaign=campaign, status=q.status), q)


@console_router.get("/group-buys/{campaign_id}/results", response={200: GroupBuyResultsOut, **ERRORS})
def console_group_buy_results(request, campaign_id: PublicId):
    """Orders, revenue, discount given and new vs returning customers of the campaign."""
    _can_view(request)
    campaign = selectors.campaign_for_staff(shop=request.shop, public_id=campaign_id)
    return promotion_results(shop=request.shop, kind="group_buy", ref=campaign.public_id)
