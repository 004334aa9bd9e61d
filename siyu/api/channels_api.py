"""API operations for channels.

`console_router` joins /api/v1/console/, `storefront_router` joins /api/v1/storefront/ (none yet).
Reading needs customers.view; changing settings needs integrations.manage (owners).
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, File, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from siyu.campaigns.channels import addresses, config, selectors
from siyu.campaigns.channels.addresses_import import MAX_BYTES, channel_addresses_import
from siyu.customers.selectors import customer_for_staff

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
    template_id, field (the template field that carries the text, default "content"). SMS sends
    through the platform's SMS account and takes only inbound_token: the token the providers' reply
    callbacks must carry (POST /sms/replies/<provider>/?token=…) so "TD" replies unsubscribe."""

    from_email: Credential | None = None
    corp_id: Credential | None = None
    app_id: Credential | None = None
    secret: Credential | None = None
    template_id: Credential | None = None
    field: Credential | None = None
    inbound_token: Annotated[str, Field(max_length=200, pattern="^[A-Za-z0-9_-]*$")] | None = None


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


# --- the address book ----------------------------------------------------------------------

AddressChannel = Literal["email", "wecom", "wechat_oa"]
CustomerRef = Annotated[str, Field(min_length=1, max_length=16, pattern="^[A-Za-z0-9]+$")]


class ChannelAddressOut(Schema):
    channel: AddressChannel
    masked: str = Field(description="The address masked (z***@example.com, wmAb…4567): never shown in full.")
    updated_at: datetime


class ChannelAddressIn(In):
    address: str = Field(
        min_length=1,
        max_length=254,
        description="email: an email address; wecom: the external_userid (16–64 of A-Z a-z 0-9 _ -); "
        "wechat_oa: the openid (20–64 of the same).",
    )


class ChannelAddressRejectOut(Schema):
    row: int = Field(description="The row number in the file (the header is row 1).")
    reason: str = Field(description="customer_missing, customer_unknown, channel_unknown, address_invalid or columns.")
    detail: str
    values: list[str]


class ChannelAddressImportOut(Schema):
    rows: int
    added: int
    updated: int
    unchanged: int
    superseded: int = Field(description="Good rows a later row for the same customer and channel replaced.")
    rejected: int
    rejected_rows: list[ChannelAddressRejectOut] = Field(description="The first 200 rejected rows.")


@console_router.get("/channels/addresses/{customer_id}", response={200: list[ChannelAddressOut], **ERRORS})
def channel_addresses_get(request, customer_id: CustomerRef):
    """Where campaigns reach the customer on email, WeCom and the Official Account (masked)."""
    customer = customer_for_staff(shop=request.shop, public_id=customer_id)
    return addresses.channel_addresses_of(actor=request.auth, shop=request.shop, customer=customer)


@console_router.put("/channels/addresses/{customer_id}/{channel}", response={200: list[ChannelAddressOut], **ERRORS})
def channel_address_put(request, customer_id: CustomerRef, channel: AddressChannel, data: ChannelAddressIn):
    """Set or replace the customer's address on a channel (customers.manage); answers every address."""
    customer = customer_for_staff(shop=request.shop, public_id=customer_id)
    addresses.channel_address_set(
        actor=request.auth, shop=request.shop, customer=customer, channel=channel, address=data.address
    )
    return addresses.channel_addresses_of(actor=request.auth, shop=request.shop, customer=customer)


@console_router.delete("/channels/addresses/{customer_id}/{channel}", response={204: None, **ERRORS})
def channel_address_delete(request, customer_id: CustomerRef, channel: AddressChannel):
    """Forget the customer's address on a channel (customers.manage); 204 whether or not there was one."""
    customer = customer_for_staff(shop=request.shop, public_id=customer_id)
    addresses.channel_address_remove(actor=request.auth, shop=request.shop, customer=customer, channel=channel)
    return Status(204, None)


@console_router.post("/channels/addresses-import", response={200: ChannelAddressImportOut, **ERRORS})
def channel_addresses_import_post(request, file: File[UploadedFile]):
    """Import a CSV (multipart field `file`, UTF-8 or GB18030, at most 10 MB) with the columns
    customer (mobile or customer id), channel (email, wecom, wechat_oa) and address. Good rows are
    kept, bad rows come back with their reason; a bad row never stops the import."""
    return channel_addresses_import(actor=request.auth, shop=request.shop, content=file.read(MAX_BYTES + 1))
