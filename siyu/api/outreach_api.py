"""API operations for outreach: campaigns with a control group and A/B variants.

`console_router` joins /api/v1/console/, `storefront_router` joins /api/v1/storefront/ (none: the
tracked link /go/<code>/ is a storefront page). Reading needs promotions.view, changing
promotions.manage. Preparing and sending run in the worker; poll the campaign for progress.
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.campaigns.outreach import selectors, services
from siyu.campaigns.outreach.results import ROI_FORMULA, campaign_results

from .auth import shopper_auth, staff_auth
from .schemas import CONTROL_CLASS, ERRORS, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console outreach"], auth=staff_auth)
storefront_router = Router(tags=["storefront outreach"], auth=shopper_auth)

# Text with only the merge fields {name} {points} {link} ({{ and }} for braces), and not blank.
_ANY = f"(?:[^{{}}{CONTROL_CLASS}]|\\{{\\{{|\\}}\\}}|\\{{(?:name|points|link)\\}})"
_SOLID = f"(?:[^\\s{{}}{CONTROL_CLASS}]|\\{{\\{{|\\}}\\}}|\\{{(?:name|points|link)\\}})"
TEXT_PATTERN = f"^{_ANY}*{_SOLID}{_ANY}*$"
PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[a-z0-9]+$")]
Channel = Literal["log", "sms", "email", "wecom", "wechat_oa"]
Status_ = Literal["draft", "scheduled", "preparing", "sending", "done", "cancelled"]


class CampaignVariantIn(In):
    text: str = Field(
        min_length=1,
        max_length=500,
        pattern=TEXT_PATTERN,
        description="The message; merge fields {name}, {points} and {link} (write {{ and }} for braces).",
    )
    subject: str = Field("", max_length=80, pattern=f"^$|{NAME_PATTERN}", description="Email subject.")


class CampaignIn(In):
    name: str = Field(min_length=1, max_length=60, pattern=NAME_PATTERN)
    segment: int = Field(ge=1, le=2**62, description="A saved segment's id: the audience, taken when it starts.")
    channel: Channel
    variants: list[CampaignVariantIn] = Field(min_length=1, max_length=4, description="1 to 4 variants (A–D).")
    holdout_bp: int = Field(1000, ge=0, le=5000, description="Control group share in basis points (1000 = 10%).")
    target: Literal["home", "product", "coupon"] = Field("home", description="What the tracked link opens.")
    target_ref: str = Field("", max_length=20, pattern="^[a-z0-9]*$", description="The product's id for product.")
    coupon: str = Field("", max_length=16, pattern="^[a-z0-9]*$", description="A coupon given to the messaged.")
    attribution_days: int = Field(7, ge=1, le=60)
    margin_bp: int = Field(3000, ge=0, le=10000, description="Margin for ROI where no SKU cost price is known.")
    scheduled_at: datetime | None = Field(None, description="When to send once started; null: at the start.")


class CampaignStartIn(In):
    at: datetime | None = Field(None, description="Query parameter: send at this time instead (past: now).")


class CampaignVariantOut(Schema):
    letter: str
    text: str
    subject: str


class CampaignOut(Schema):
    id: str
    name: str
    segment: int | None = Field(description="The segment's id (null once deleted).")
    segment_name: str
    channel: str
    status: Status_
    holdout_bp: int
    target: str
    target_ref: str
    coupon: str
    attribution_days: int
    margin_bp: int
    scheduled_at: datetime | None
    send_started_at: datetime | None
    finished_at: datetime | None
    prepared: int = Field(description="Recipients snapshotted so far (control included).")
    control: int
    sent: int
    failed: int
    refused: int
    pending: int = Field(description="Messages still to send or retry.")
    variants: list[CampaignVariantOut]
    created_at: datetime

    @staticmethod
    def resolve_id(obj):
        return obj.public_id

    @staticmethod
    def resolve_segment(obj):
        return obj.segment_id

    @staticmethod
    def resolve_coupon(obj):
        return obj.coupon.public_id if obj.coupon_id else ""

    @staticmethod
    def resolve_pending(obj):
        return selectors.campaign_pending(obj)

    @staticmethod
    def resolve_variants(obj):
        return list(obj.variants.all())


class CampaignPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CampaignOut]


class CampaignFilterIn(PageIn):
    status: Status_ | None = Field(None, description="Only this status.")


class CampaignIntervalOut(Schema):
    diff: float
    low: float
    high: float
    significant: bool


class CampaignGroupOut(Schema):
    group: str = Field(description='"control", a variant letter, or "treatment" (all variants).')
    recipients: int
    delivered: int
    clicked: int
    ordered: int
    revenue: int = Field(description="Fen: paid less refunded, orders in the attribution window.")
    conversion: float
    revenue_per_recipient: float = Field(description="Fen.")
    message_cost: int
    conversion_uplift: CampaignIntervalOut | None = Field(description="Share difference over control, 95% CI.")
    revenue_uplift: CampaignIntervalOut | None = Field(description="Fen per recipient over control, Welch 95% CI.")

    @staticmethod
    def resolve_group(obj):
        return obj.key


class CampaignResultsOut(Schema):
    window_start: datetime | None
    window_end: datetime | None
    groups: list[CampaignGroupOut]
    margin_bp: int
    margin_from_costs: bool
    discounts: int
    message_cost: int
    incremental_profit: float = Field(description="Fen.")
    roi: float | None
    formula: str


def _campaign(request, campaign_id: str):
    return selectors.campaign_get(actor=request.auth, shop=request.shop, public_id=campaign_id)


def _data(data: CampaignIn) -> dict:
    body = data.model_dump()
    body["variants"] = [v.model_dump() for v in data.variants]
    return body


@console_router.get("/campaigns", response={200: CampaignPage, **ERRORS})
def campaign_list(request, filters: Query[CampaignFilterIn]):
    """The shop's campaigns, newest first, with their progress."""
    rows = selectors.campaigns_with_variants(
        selectors.campaigns_of(actor=request.auth, shop=request.shop, status=filters.status).select_related("coupon")
    )
    return page_of(rows, filters)


@console_router.post("/campaigns", response={201: CampaignOut, **ERRORS})
def campaign_create(request, data: CampaignIn):
    """A draft campaign; nothing is sent until `POST /campaigns/{id}/start`."""
    campaign = services.campaign_create(actor=request.auth, shop=request.shop, data=_data(data))
    return Status(201, _campaign(request, campaign.public_id))


@console_router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def campaign_detail(request, campaign_id: PublicId):
    return _campaign(request, campaign_id)


@console_router.put("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS})
def campaign_update(request, campaign_id: PublicId, data: CampaignIn):
    """Replace a draft's settings and variants (409 campaign_not_draft once started)."""
    services.campaign_update(actor=request.auth, shop=request.shop, public_id=campaign_id, data=_data(data))
    return _campaign(request, campaign_id)


@console_router.delete("/campaigns/{campaign_id}", response={204: None, **ERRORS})
def campaign_delete(request, campaign_id: PublicId):
    """Delete a draft (a started campaign is cancelled instead, keeping its results)."""
    services.campaign_delete(actor=request.auth, shop=request.shop, public_id=campaign_id)
    return Status(204, None)


@console_router.post("/campaigns/{campaign_id}/start", response={202: CampaignOut, **ERRORS})
def campaign_start(request, campaign_id: PublicId, params: Query[CampaignStartIn]):
    """Schedule the draft; the worker snapshots the audience, deals the control group and the
    variants, and sends in batches. 409 bad_transition when not a draft."""
    services.campaign_start(actor=request.auth, shop=request.shop, public_id=campaign_id, at=params.at)
    return Status(202, _campaign(request, campaign_id))


@console_router.post("/campaigns/{campaign_id}/cancel", response={200: CampaignOut, **ERRORS})
def campaign_cancel(request, campaign_id: PublicId):
    """Stop sending (messages already sent stay sent; results are still measured)."""
    services.campaign_cancel(actor=request.auth, shop=request.shop, public_id=campaign_id)
    return _campaign(request, campaign_id)


@console_router.get(
    "/campaigns/{campaign_id}/results", response={200: CampaignResultsOut, **ERRORS}, description=ROI_FORMULA
)
def campaign_results_get(request, campaign_id: PublicId):
    """Per group (control first, then A–D, then all variants together): recipients, delivered,
    clicked, ordered, revenue, conversion, revenue per recipient, uplift over control with 95%
    intervals; ROI with its formula."""
    result = campaign_results(campaign=_campaign(request, campaign_id))
    return {
        "window_start": result.window[0] if result.window else None,
        "window_end": result.window[1] if result.window else None,
        "groups": [*result.groups, *([result.treatment] if result.treatment else [])],
        "margin_bp": result.margin_bp,
        "margin_from_costs": result.margin_from_costs,
        "discounts": result.discounts,
        "message_cost": result.message_cost,
        "incremental_profit": result.incremental_profit,
        "roi": result.roi,
        "formula": result.formula,
    }
