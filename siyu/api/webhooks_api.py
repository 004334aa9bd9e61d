"""API operations for webhooks (console: staff with integrations.manage, i.e. owners).

`console_router` joins /api/v1/console/, `storefront_router` joins /api/v1/storefront/ (none yet).
How deliveries are signed and retried is described on `POST /webhooks`.
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from siyu.campaigns.webhooks import selectors, services
from siyu.campaigns.webhooks.guard import MAX_URL, URL_PATTERN
from siyu.campaigns.webhooks.payloads import webhook_topics

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, NAME_PATTERN, In, PageIn, page_of

console_router = Router(tags=["console webhooks"], auth=staff_auth)
storefront_router = Router(tags=["storefront webhooks"], auth=shopper_auth)

PublicId = Annotated[str, Field(min_length=1, max_length=20, pattern="^[a-z0-9]+$")]
Topic = Literal[tuple(["*", *webhook_topics()])]  # type: ignore[valid-type]  # built from the registry

_DELIVERY_DOC = (
    'Each delivery is `POST <url>` with the JSON body `{"id", "type", "created_at", "data"}` and the '
    "headers `Siyu-Event-Id` (the id, the same on every retry), `Siyu-Signature: t=<unix seconds>,"
    'v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (two v1= during a rotation\'s grace period), '
    "`Content-Type: application/json` and `User-Agent: Siyu-Webhooks/1`. Any 2xx within 10 seconds is "
    "success; anything else (redirects are not followed) is retried after about 1m, 5m, 30m, 2h, 5h, "
    "10h and 24h (plus up to 20% jitter). An endpoint that fails 50 times in a row, or for 3 days, is "
    "disabled and the owners are told. In production only https URLs whose host resolves to public "
    "addresses are accepted."
)


class WebhookIn(In):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL,
        pattern=URL_PATTERN,
        description="Where to POST: https://host[:port][/path] (http and private addresses only in development).",
    )
    events: list[Topic] = Field(  # type: ignore[valid-type]  # a Literal built from the registry
        min_length=1, max_length=40, description='Event types, or ["*"] for all of them.'
    )
    description: str = Field("", max_length=200, pattern=f"^$|{NAME_PATTERN}", description="A note for staff.")


class RotateIn(In):
    grace_hours: int = Field(
        24, ge=0, le=72, description="How long the old secret keeps signing too (0: retire it now)."
    )


class WebhookOut(Schema):
    id: str = Field(description="The endpoint's id.")
    url: str
    events: list[str]
    description: str
    status: Literal["enabled", "disabled"]
    disabled_reason: str = Field(
        description='"" while enabled; "manual" (staff) or "failing" (after repeated failure).'
    )
    disabled_at: datetime | None
    consecutive_failures: int
    previous_secret_until: datetime | None = Field(description="Until when the previous secret also signs.")
    created_at: datetime

    @staticmethod
    def resolve_id(obj):
        return obj.public_id


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="The signing secret (whsec_…). Shown only now; store it safely.")


class DeliveryOut(Schema):
    id: str = Field(description="The delivery's id.")
    event_id: str = Field(description="The event id sent as Siyu-Event-Id.")
    type: str
    status: Literal["pending", "sending", "succeeded", "failed"]
    attempts: int
    last_status_code: int | None = Field(description="The HTTP status of the last answer; null after a timeout.")
    last_error: str
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="When the next try is due (pending only).")
    created_at: datetime
    data: dict = Field(description="The event's data, as sent.")

    @staticmethod
    def resolve_id(obj):
        return obj.public_id

    @staticmethod
    def resolve_event_id(obj):
        return obj.event.public_id

    @staticmethod
    def resolve_type(obj):
        return obj.event.type

    @staticmethod
    def resolve_data(obj):
        return obj.event.data


class DeliveryFilterIn(PageIn):
    status: Literal["pending", "sending", "succeeded", "failed"] | None = Field(None, description="Only this status.")


class DeliveryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DeliveryOut]


@console_router.post("/webhooks", response={201: WebhookSecretOut, **ERRORS}, description=_DELIVERY_DOC)
def webhook_create(request, data: WebhookIn):
    """Register an endpoint (integrations.manage). The answer carries the signing secret, once.
    At most 10 per shop (409 webhook_limit)."""
    endpoint, secret = services.endpoint_create(
        actor=request.auth, shop=request.shop, url=data.url, events=list(data.events), description=data.description
    )
    endpoint.secret = secret
    return Status(201, endpoint)


@console_router.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
def webhook_list(request):
    """The shop's endpoints, oldest first (at most 10)."""
    return selectors.endpoints_of(actor=request.auth, shop=request.shop)


@console_router.get("/webhooks/{endpoint_id}", response={200: WebhookOut, **ERRORS})
def webhook_detail(request, endpoint_id: PublicId):
    return selectors.endpoint_get(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id)


@console_router.delete("/webhooks/{endpoint_id}", response={204: None, **ERRORS})
def webhook_delete(request, endpoint_id: PublicId):
    """Remove an endpoint and its delivery history."""
    services.endpoint_delete(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id)
    return Status(204, None)


@console_router.post("/webhooks/{endpoint_id}/disable", response={200: WebhookOut, **ERRORS})
def webhook_disable(request, endpoint_id: PublicId):
    """Stop sending; deliveries still due wait for it to be enabled again."""
    return services.endpoint_disable(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id)


@console_router.post("/webhooks/{endpoint_id}/enable", response={200: WebhookOut, **ERRORS})
def webhook_enable(request, endpoint_id: PublicId):
    """Send again (the failure count starts over); deliveries still due go out at once."""
    return services.endpoint_enable(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id)


@console_router.post("/webhooks/{endpoint_id}/rotate-secret", response={201: WebhookSecretOut, **ERRORS})
def webhook_rotate(request, endpoint_id: PublicId, params: Query[RotateIn]):
    """A new signing secret, shown once. The old one keeps signing (a second v1=) for
    `grace_hours` (default 24, 0 to 72), so the receiver can switch without missing a delivery."""
    endpoint, secret = services.endpoint_rotate_secret(
        actor=request.auth, shop=request.shop, endpoint_id=endpoint_id, grace_hours=params.grace_hours
    )
    endpoint.secret = secret
    return Status(201, endpoint)


@console_router.get("/webhooks/{endpoint_id}/deliveries", response={200: DeliveryPage, **ERRORS})
def webhook_deliveries(request, endpoint_id: PublicId, filters: Query[DeliveryFilterIn]):
    """Deliveries to this endpoint, newest first: status, attempts, last answer, next try."""
    endpoint = selectors.endpoint_get(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id)
    return page_of(selectors.deliveries_of(endpoint=endpoint, status=filters.status), filters)


@console_router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend", response={202: DeliveryOut, **ERRORS})
def webhook_resend(request, endpoint_id: PublicId, delivery_id: PublicId):
    """Send one delivery again now, same event id and body (409 while the endpoint is disabled)."""
    services.delivery_resend(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id, delivery_id=delivery_id)
    endpoint = selectors.endpoint_get(actor=request.auth, shop=request.shop, endpoint_id=endpoint_id)
    return Status(202, selectors.delivery_get(endpoint=endpoint, delivery_id=delivery_id))
