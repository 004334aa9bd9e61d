"""API operations for channels.

`console_router` joins /api/v1/console/, `storefront_router` joins /api/v1/storefront/ (none yet).
Reading needs customers.view; changing settings needs integrations.manage (owners).
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Query, Router, Schema

from siyu.campaigns.channels import config, selectors

from .auth import shopper_auth, staff_auth
from .schemas import ERRORS, In, PageIn, page_of

console_router = Router(tags=["console channels"], auth=staff_auth)
storefront_router = Router(tags=["storefront channels"], auth=shopper_auth)

ChannelName = Literal["log", "sms", "email", "wecom", "wechat_oa"]
MessageState = Literal["sending", "sent", "failed", "refused"]
ClockTime = Annotated[str, Field(min_length=5, max_length=5, pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Credential = Annotated[str, Field(max_length=500, pattern="^[!-~]*$")]


class ChannelCredentialsIn(In):
    """Credential values to set (an empty string removes one; names left out keep their value).
    Which names a channel takes: email from_email; wecom corp_id, secret; wechat_oa app_id, secret,
    template_id, field (the template field that carries the text, default "content"). SMS uses the
    platform's SMS account and takes none."""

    from_email: Credential | None = None
    corp_id: Credential | None = None
    app_id: Credential | None = None
    secret: Credential | None = None
    template_id: Credential | None = None
    field: Credential | None = None


class ChannelItemIn(In):
    channel: ChannelName
    enabled: bool | None = None
    cost_fen: int | None = Field(None, ge=0, le=100_000, description="What one message costs, in fen.")
    rate_per_minute: int | None = Field(None, ge=1, le=100_000, description="At most this many sends a minute.")
    credentials: ChannelCredentialsIn | None = None


class ChannelSettingsIn(In):
    quiet_start: ClockTime | None = Field(None, description="Quiet hours start, HH:MM shop time (default 21:00).")
    quiet_end: ClockTime | None = Field(None, description="Quiet hours end, HH:MM (default 09:00); equal: none.")
    cap_messages: int | None = Field(None, ge=0, le=100, description="Marketing messages a customer may get…")
    cap_days: int | None = Field(None, ge=1, le=365, description="…within this many days (default 2 in 7).")
    channels: list[ChannelItemIn] = Field([], max_length=5)


class ChannelItemOut(Schema):
    channel: ChannelName
    enabled: bool
    cost_fen: int
    rate_per_minute: int
    credential_keys: list[str] = Field(description="The credential names this channel takes.")
    credentials_set: list[str] = Field(description="Those that have a value (values are never shown).")


class ChannelSettingsOut(Schema):
    quiet_start: str
    quiet_end: str
    cap_messages: int
    cap_days: int
    channels: list[ChannelItemOut]


class ChannelMessageOut(Schema):
    key: str = Field(description="The sender's idempotency key.")
    customer_id: str | None = Field(description="The customer's public id.")
    channel: ChannelName
    status: MessageState
    reason: str
    provider_id: str
    cost_fen: int
    attempts: int
    claimed_at: datetime = Field(description="When the last attempt started.")
    sent_at: datetime | None

    @staticmethod
    def resolve_customer_id(obj):
        return obj.customer.public_id if obj.customer else None


class ChannelMessageFilterIn(PageIn):
    channel: ChannelName | None = Field(None, description="Only this channel.")
    status: MessageState | None = Field(None, description="Only this status.")


class ChannelMessagePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ChannelMessageOut]


def _service_data(data: ChannelSettingsIn) -> dict:
    body = data.dict(exclude_none=True)
    for item in body.get("channels", []):
        if "credentials" in item:
            item["credentials"] = {k: v for k, v in item["credentials"].items() if v is not None}
    return body


@console_router.get("/channels/settings", response={200: ChannelSettingsOut, **ERRORS})
def channel_settings_get(request):
    """Quiet hours, the frequency cap and each channel's state, cost, rate and which credentials are set."""
    return selectors.channel_settings_view(actor=request.auth, shop=request.shop)


@console_router.put("/channels/settings", response={200: ChannelSettingsOut, **ERRORS})
def channel_settings_put(request, data: ChannelSettingsIn):
    """Change any of the settings (integrations.manage); fields left out keep their value. Audited
    (credential names only)."""
    config.channel_settings_update(actor=request.auth, shop=request.shop, data=_service_data(data))
    return selectors.channel_settings_view(actor=request.auth, shop=request.shop)


@console_router.get("/channels/messages", response={200: ChannelMessagePage, **ERRORS})
def channel_messages(request, filters: Query[ChannelMessageFilterIn]):
    """The message log, newest first: one row per idempotency key with its last outcome."""
    rows = selectors.messages_of(
        actor=request.auth, shop=request.shop, channel=filters.channel or "", status=filters.status or ""
    )
    return page_of(rows, filters)
