"""API operations for bargains.

`console_router` joins /api/v1/console/ (staff: promotions.view to read, promotions.manage to
change), `storefront_router` joins /api/v1/storefront/ (a signed-in shopper). Each operation calls
one service or selector of siyu.promotions.bargains."""

from datetime import datetime, timedelta
from typing import Annotated

from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.core.permissions import require
from siyu.core.security import client_ip
from siyu.promotions.bargains import campaigns as campaign_services
from siyu.promotions.bargains.models import MAX_HELPS, MAX_HOURS, MIN_HELPS, Bargain
from siyu.promotions.bargains.selectors import (
    bargain_detail,
    bargain_progress,
    bargains_of_campaign,
    bargains_of_shopper,
    campaign_for_staff,
    campaigns_for_staff,
)
from siyu.promotions.bargains.services import bargain_help, bargain_start
from siyu.promotions.results import promotion_results

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, Fen, Id, In, PageIn, page_of

console_router = Router(tags=["console bargains"], auth=staff_auth)
storefront_router = Router(tags=["storefront bargains"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[0-9a-z]+$")]


# --- shapes --------------------------------------------------------------------------------


class HelpOut(Schema):
    position: int
    cut: int = Field(description="Fen this friend cut.")
    helper: str = Field(description="The helper's nickname or masked phone.")
    created_at: datetime

    @staticmethod
    def resolve_helper(obj) -> str:
        return str(obj.helper)


class BargainOut(Schema):
    id: str
    campaign: str = Field(description="The campaign's public id.")
    product: str = Field(description="The product's public id.")
    product_name: str
    sku_id: int
    status: str = Field(description="open, ordered, bought or expired.")
    start_price: int
    floor_price: int
    current_price: int
    helps_needed: int
    helps_done: int
    deadline: datetime
    seconds_left: int
    mine: bool = Field(description="True when you started it.")
    buyable: bool = Field(description="You may check out with promotion=`bargain:<id>` now.")
    checkout_promotion: str = Field(description='The checkout option that buys it: "bargain:<id>".')
    page_url: str
    poster_url: str
    helps: list[HelpOut]


class BargainStartIn(In):
    campaign: PublicId


class BargainCampaignIn(In):
    name: str = Field(max_length=60, pattern=NAME_PATTERN)
    sku_id: Id
    floor_price: Fen = Field(
        description="The lowest price friends can cut to, fen: below the SKU's price by at least 1 fen per help, "
        "and not below its minimum advertised price unless an override for that price is on record."
    )
    helps_needed: int = Field(ge=MIN_HELPS, le=MAX_HELPS, description="Helps that reach the floor.")
    hours: int = Field(ge=1, le=MAX_HOURS, description="Time limit of each bargain, in hours.")
    starts_at: datetime
    days: int = Field(ge=1, le=366, description="The campaign runs this many days from starts_at.")
    stock_cap: int = Field(ge=1, le=campaign_services.MAX_CAP, description="How many may buy through bargains.")
    buy_at_current: bool = Field(False, description="The starter may buy before the floor is reached.")


class BargainCampaignPatchIn(In):
    name: str | None = Field(None, max_length=60, pattern=NAME_PATTERN)
    floor_price: Fen | None = None
    helps_needed: int | None = Field(None, ge=MIN_HELPS, le=MAX_HELPS)
    hours: int | None = Field(None, ge=1, le=MAX_HOURS)
    days: int | None = Field(None, ge=1, le=366, description="The campaign then ends this many days after its start.")
    stock_cap: int | None = Field(None, ge=1, le=campaign_services.MAX_CAP)
    buy_at_current: bool | None = None


class BargainResultsOut(Schema):
    orders_placed: int
    orders_paid: int
    revenue: int
    discount: int
    new_customers: int
    returning_customers: int


class BargainCampaignOut(Schema):
    id: str
    name: str
    sku_id: int
    product: str
    product_name: str
    floor_price: int
    helps_needed: int
    hours: int
    starts_at: datetime
    ends_at: datetime
    stock_cap: int
    slots_taken: int
    buy_at_current: bool
    status: str
    started: int = Field(0, description="Bargains started.")
    reached: int = Field(0, description="Bargains that reached the floor.")

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.public_id

    @staticmethod
    def resolve_product(obj) -> str:
        return obj.product.public_id

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name


class BargainCampaignDetailOut(Schema):
    campaign: BargainCampaignOut
    results: BargainResultsOut = Field(description="Orders, revenue and discount of the orders placed through it.")


class BargainCampaignPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[BargainCampaignOut]


class StaffBargainOut(Schema):
    id: str
    starter: str
    status: str
    start_price: int
    current_price: int
    floor_price: int
    helps_done: int
    flagged_helps: int = Field(description="Helps from someone sharing the starter's device, network or address.")
    deadline: datetime
    order: str | None = Field(description="The order's public id, while ordered or bought.")
    created_at: datetime

    @staticmethod
    def resolve_id(obj) -> str:
        return obj.public_id

    @staticmethod
    def resolve_starter(obj) -> str:
        return str(obj.starter)

    @staticmethod
    def resolve_flagged_helps(obj) -> int:
        return obj.flagged

    @staticmethod
    def resolve_order(obj) -> str | None:
        return obj.order.public_id if obj.order_id else None


class StaffBargainPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[StaffBargainOut]


# --- storefront ----------------------------------------------------------------------------


def _bargain_out(request, bargain: Bargain) -> dict:
    progress = bargain_progress(bargain)
    campaign = bargain.campaign
    mine = bargain.starter_id == request.auth.pk
    open_now = bargain.status == Bargain.Status.OPEN and progress.seconds_left > 0
    page = request.build_absolute_uri(reverse("storefront:bargain", args=[bargain.public_id]))
    return {
        "id": bargain.public_id,
        "campaign": campaign.public_id,
        "product": campaign.product.public_id,
        "product_name": campaign.product.name,
        "sku_id": campaign.sku_id,
        "status": bargain.status,
        "start_price": bargain.start_price,
        "floor_price": bargain.floor_price,
        "current_price": bargain.current_price,
        "helps_needed": len(bargain.cuts),
        "helps_done": bargain.helps_done,
        "deadline": bargain.deadline,
        "seconds_left": progress.seconds_left,
        "mine": mine,
        "buyable": mine
        and open_now
        and campaign.status == "active"
        and (progress.left == 0 or campaign.buy_at_current),
        "checkout_promotion": f"bargain:{bargain.public_id}",
        "page_url": f"{page}?ref={request.auth.share_code}",
        "poster_url": request.build_absolute_uri(reverse("storefront:bargain_poster", args=[bargain.public_id]))
        + f"?ref={request.auth.share_code}",
        "helps": list(bargain.helps.all()),
    }


@storefront_router.post("/bargains", response={200: BargainOut, 201: BargainOut, **ERRORS})
def bargain_start_op(request, data: BargainStartIn):
    """Start your bargain in a running campaign (201), or get the one you already have there (200).
    The cut schedule is drawn now; share `page_url` for friends to help."""
    started = bargain_start(shop=request.shop, shopper=request.auth, campaign_id=data.campaign, ip=client_ip(request))
    bargain = bargain_detail(shop=request.shop, public_id=started.bargain.public_id)
    return Status(201 if started.created else 200, _bargain_out(request, bargain))


@storefront_router.get("/bargains", response={200: list[BargainOut], **ERRORS})
def my_bargains(request):
    """Your bargains, newest first (at most 50)."""
    rows = bargains_of_shopper(shop=request.shop, shopper=request.auth)
    for row in rows:
        row._prefetched_objects_cache = {"helps": row.helps.none()}  # type: ignore[attr-defined]  # the list leaves helpers out
    return [_bargain_out(request, b) for b in rows]


@storefront_router.get("/bargains/{public_id}", response={200: BargainOut, **ERRORS})
def bargain_get(request, public_id: PublicId):
    """A bargain, yours or a friend's, with its helpers."""
    return _bargain_out(request, bargain_detail(shop=request.shop, public_id=public_id))


@storefront_router.post("/bargains/{public_id}/help", response={201: HelpOut, **ERRORS})
def bargain_help_op(request, public_id: PublicId):
    """Cut a friend's bargain once (409 for your own, a second time, or one that is over; 429 over
    the hourly limits)."""
    made = bargain_help(shop=request.shop, helper=request.auth, bargain_id=public_id, ip=client_ip(request))
    made.helper = request.auth
    return Status(201, made)


# --- console -------------------------------------------------------------------------------


def _window(starts_at: datetime, days: int) -> dict:
    return {"starts_at": starts_at, "ends_at": starts_at + timedelta(days=days)}


@console_router.get("/bargains/campaigns", response={200: BargainCampaignPage, **ERRORS})
def campaign_list(request, q: Query[PageIn]):
    require(request.auth, "promotions.view", shop_id=request.shop.pk)
    return page_of(campaigns_for_staff(shop=request.shop), q)


@console_router.post("/bargains/campaigns", response={201: BargainCampaignDetailOut, **ERRORS})
def campaign_create_op(request, data: BargainCampaignIn):
    """A new bargain campaign. 409 when the floor is not below the SKU's price by a fen per help;
    400 `below_price_floor` under the minimum advertised price without a recorded override."""
    fields = data.dict(exclude={"days", "starts_at"}) | _window(data.starts_at, data.days)
    made = campaign_services.campaign_create(actor=request.auth, shop=request.shop, data=fields)
    return Status(201, _detail(request, made.public_id))


def _detail(request, public_id: str) -> dict:
    campaign = campaign_for_staff(shop=request.shop, public_id=public_id)
    results = promotion_results(shop=request.shop, kind="bargain", ref=campaign.public_id)
    return {"campaign": campaign, "results": results}


@console_router.get("/bargains/campaigns/{public_id}", response={200: BargainCampaignDetailOut, **ERRORS})
def campaign_get(request, public_id: PublicId):
    """A campaign with its results: orders, revenue, discount given, new and returning customers."""
    require(request.auth, "promotions.view", shop_id=request.shop.pk)
    return _detail(request, public_id)


@console_router.patch("/bargains/campaigns/{public_id}", response={200: BargainCampaignDetailOut, **ERRORS})
def campaign_patch(request, data: BargainCampaignPatchIn, public_id: PublicId):
    """Change an active campaign; bargains already started keep their schedule."""
    campaign = campaign_for_staff(shop=request.shop, public_id=public_id)
    fields = data.dict(exclude_unset=True, exclude={"days"})
    if data.days is not None:
        fields |= _window(campaign.starts_at, data.days)
    campaign_services.campaign_update(actor=request.auth, campaign=campaign, data=fields)
    return _detail(request, public_id)


@console_router.post("/bargains/campaigns/{public_id}/end", response={200: BargainCampaignDetailOut, **ERRORS})
def campaign_end_op(request, public_id: PublicId):
    """End a campaign now: no new bargains, helps or purchases through it."""
    campaign = campaign_for_staff(shop=request.shop, public_id=public_id)
    campaign_services.campaign_end(actor=request.auth, campaign=campaign)
    return _detail(request, public_id)


@console_router.get("/bargains/campaigns/{public_id}/bargains", response={200: StaffBargainPage, **ERRORS})
def campaign_bargains(request, q: Query[PageIn], public_id: PublicId):
    """A campaign's bargains, newest first, with flagged helps counted."""
    require(request.auth, "promotions.view", shop_id=request.shop.pk)
    campaign = campaign_for_staff(shop=request.shop, public_id=public_id)
    return page_of(bargains_of_campaign(campaign=campaign), q)
