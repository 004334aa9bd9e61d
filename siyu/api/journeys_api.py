"""API operations for journeys: triggered campaigns with a holdout.

`console_router` joins /api/v1/console/ (reading needs promotions.view, changing
promotions.manage); `storefront_router` joins /api/v1/storefront/ and has no operation (the tracked
link /j/<code>/ is a storefront page). Enrolling and sending run in the worker every five minutes
once a journey is switched on.
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.campaigns.journeys import selectors, services
from siyu.campaigns.journeys.results import ROI_FORMULA, journey_results

from .auth import shopper_auth, staff_auth
from .schemas import CONTROL_CLASS, ERRORS, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console journeys"], auth=staff_auth)
storefront_router = Router(tags=["storefront journeys"], auth=shopper_auth)

_FIELD = "\\{(?:name|shop|product|link)\\}"
_ANY = f"(?:[^{{}}{CONTROL_CLASS}]|\\{{\\{{|\\}}\\}}|{_FIELD})"
_SOLID = f"(?:[^\\s{{}}{CONTROL_CLASS}]|\\{{\\{{|\\}}\\}}|{_FIELD})"
TEXT_PATTERN = f"^{_ANY}*{_SOLID}{_ANY}*$"
PublicId = Annotated[str, Field(min_length=1, max_length=16, pattern="^[a-z0-9]+$")]
Channel = Literal["log", "sms", "email", "wecom", "wechat_oa"]
Kind = Literal["welcome", "second_order", "winback", "birthday", "abandoned_cart", "repurchase"]


class JourneyVariantIn(In):
    text: str = Field(
        min_length=1,
        max_length=500,
        pattern=TEXT_PATTERN,
        description="The message; merge fields {name}, {shop}, {product}, {link} (write {{ and }} for braces).",
    )
    subject: str = Field("", max_length=80, pattern=f"^$|{NAME_PATTERN}", description="Email subject.")


class JourneyChangeIn(In):
    name: str = Field(min_length=1, max_length=60, pattern=NAME_PATTERN)
    channel: Channel
    variants: list[JourneyVariantIn] = Field(min_length=1, max_length=4, description="1 to 4 variants (A–D).")
    delay_hours: int = Field(0, ge=0, le=services.MAX_DELAY_HOURS, description="Hours to wait after the trigger.")
    holdout_bp: int = Field(1000, ge=0, le=5000, description="Holdout share in basis points (1000 = 10%).")
    target: Literal["home", "product", "coupon"] = Field("home", description="What the tracked link opens.")
    target_ref: str = Field("", max_length=20, pattern="^[a-z0-9]*$", description="The product's id for product.")
    coupon: str = Field("", max_length=16, pattern="^[a-z0-9]*$", description="A coupon given to the messaged.")
    attribution_days: int = Field(7, ge=1, le=60)
    margin_bp: int = Field(3000, ge=0, le=10000, description="Margin for ROI where no SKU cost price is known.")


class JourneyIn(JourneyChangeIn):
    kind: Kind = Field(description="The trigger; it never changes afterwards.")


class JourneyVariantOut(Schema):
    letter: str
    text: str
    subject: str


class JourneyOut(Schema):
    id: str
    name: str
    kind: Kind
    active: bool
    active_since: datetime | None
    delay_hours: int
    channel: str
    holdout_bp: int
    target: str
    target_ref: str
    coupon: str
    attribution_days: int
    margin_bp: int
    enrolled: int = Field(description="Enrolments so far (holdout included).")
    held_out: int
    sent: int
    clicked: int
    variants: list[JourneyVariantOut]
    last_run_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_id(obj):
        return obj.public_id

    @staticmethod
    def resolve_coupon(obj):
        return obj.coupon.public_id if obj.coupon_id else ""

    @staticmethod
    def resolve_enrolled(obj):
        return obj.n_enrolled

    @staticmethod
    def resolve_held_out(obj):
        return obj.n_holdout

    @staticmethod
    def resolve_sent(obj):
        return obj.n_sent

    @staticmethod
    def resolve_clicked(obj):
        return obj.n_clicked

    @staticmethod
    def resolve_variants(obj):
        return list(obj.variants.all())


class JourneyPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[JourneyOut]


class JourneyIntervalOut(Schema):
    diff: float
    low: float
    high: float
    significant: bool


class JourneyGroupOut(Schema):
    group: str = Field(description='"holdout", a variant letter, or "treatment" (all variants).')
    enrolled: int
    delivered: int
    clicked: int
    ordered: int
    revenue: int = Field(description="Fen: paid less refunded, orders inside each enrolment's window.")
    conversion: float
    revenue_per_enrolment: float = Field(description="Fen.")
    message_cost: int
    conversion_uplift: JourneyIntervalOut | None = Field(description="Share difference over holdout, 95% CI.")
    revenue_uplift: JourneyIntervalOut | None = Field(description="Fen per enrolment over holdout, Welch 95% CI.")

    @staticmethod
    def resolve_group(obj):
        return obj.key

    @staticmethod
    def resolve_enrolled(obj):
        return obj.recipients

    @staticmethod
    def resolve_revenue_per_enrolment(obj):
        return obj.revenue_per_recipient


class JourneyResultsOut(Schema):
    groups: list[JourneyGroupOut]
    margin_bp: int
    margin_from_costs: bool
    discounts: int
    message_cost: int
    incremental_profit: float = Field(description="Fen.")
    roi: float | None
    formula: str


def _journey(request, journey_id: str):
    return selectors.journey_get(actor=request.auth, shop=request.shop, public_id=journey_id)


def _data(data: JourneyChangeIn) -> dict:
    body = data.model_dump()
    body["variants"] = [v.model_dump() for v in data.variants]
    return body


@console_router.get("/journeys", response={200: JourneyPage, **ERRORS})
def journey_list(request, page: Query[PageIn]):
    """The shop's journeys with their key figures (a shop with none gets the default set, off)."""
    if request.auth.can(services.MANAGE):
        services.journeys_seed(shop=request.shop)
    rows = selectors.with_variants(selectors.journeys_of(actor=request.auth, shop=request.shop))
    return page_of(rows, page)


@console_router.post("/journeys", response={201: JourneyOut, **ERRORS})
def journey_create(request, data: JourneyIn):
    """A journey, switched off until `POST /journeys/{id}/activate`."""
    journey = services.journey_create(actor=request.auth, shop=request.shop, data=_data(data))
    return Status(201, _journey(request, journey.public_id))


@console_router.get("/journeys/{journey_id}", response={200: JourneyOut, **ERRORS})
def journey_detail(request, journey_id: PublicId):
    return _journey(request, journey_id)


@console_router.put("/journeys/{journey_id}", response={200: JourneyOut, **ERRORS})
def journey_update(request, journey_id: PublicId, data: JourneyChangeIn):
    """Replace the settings and variants (the trigger stays). 409 variant_in_use when a dropped
    variant was already dealt to customers."""
    services.journey_update(actor=request.auth, shop=request.shop, public_id=journey_id, data=_data(data))
    return _journey(request, journey_id)


@console_router.post("/journeys/{journey_id}/activate", response={200: JourneyOut, **ERRORS})
def journey_activate(request, journey_id: PublicId):
    """Switch on: the worker enrols customers as they become due (moments from before now, less a
    day, are not caught up, except lapsing customers for win-back)."""
    services.journey_activate(actor=request.auth, shop=request.shop, public_id=journey_id)
    return _journey(request, journey_id)


@console_router.post("/journeys/{journey_id}/pause", response={200: JourneyOut, **ERRORS})
def journey_pause(request, journey_id: PublicId):
    """Switch off: nobody new is enrolled and nothing more is sent; results stay."""
    services.journey_pause(actor=request.auth, shop=request.shop, public_id=journey_id)
    return _journey(request, journey_id)


@console_router.get(
    "/journeys/{journey_id}/results", response={200: JourneyResultsOut, **ERRORS}, description=ROI_FORMULA
)
def journey_results_get(request, journey_id: PublicId):
    """Per group (holdout first, then A–D, then all variants together): enrolled, delivered,
    clicked, ordered, revenue, conversion, revenue per enrolment, uplift over the holdout with 95%
    intervals; ROI with its formula."""
    result = journey_results(journey=_journey(request, journey_id))
    return {
        "groups": [*result.groups, *([result.treatment] if result.treatment else [])],
        "margin_bp": result.margin_bp,
        "margin_from_costs": result.margin_from_costs,
        "discounts": result.discounts,
        "message_cost": result.message_cost,
        "incremental_profit": result.incremental_profit,
        "roi": result.roi,
        "formula": result.formula,
    }
