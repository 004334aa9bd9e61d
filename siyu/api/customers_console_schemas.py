"""What staff send and see about the customer pool. Money is integer fen (`*_fen`); phone numbers
are masked everywhere except the answer of the reveal endpoint, which is logged."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from .rules_schema import RulesIn, TagRulesIn
from .schemas import NAME_PATTERN, Fen, Id, In, PageIn

LifecycleFilter = Literal["", "prospect", "new", "active", "at_risk", "dormant", "lost"]
SourceFilter = Literal["", "store", "taobao", "jd", "pdd", "import", "manual"]
SocialStatus = Literal["invited", "added", "deleted"]
Rules = dict[str, Any]


class CustomerFiltersIn(PageIn):
    q: str = Field("", max_length=40, description="Name, customer id, or a full 11-digit phone number.")
    tag: Id | None = Field(None, description="Tag id.")
    lifecycle: LifecycleFilter = ""
    source: SourceFilter = ""
    level: int | None = Field(None, ge=0, le=2**53 - 1, description="Level id; 0 for customers without a level.")
    segment: Id | None = Field(None, description="Saved segment id: its members at the last evaluation.")
    spend_min_fen: Fen | None = None
    spend_max_fen: Fen | None = None
    last_order_after: date | None = Field(None, description="Last order on or after this day (shop time).")
    last_order_before: date | None = Field(None, description="Last order on or before this day (shop time).")


class LevelOut(Schema):
    id: int
    name: str
    min_spend_fen: int
    discount_bp: int
    free_shipping: bool

    @staticmethod
    def resolve_min_spend_fen(obj):
        return obj.min_spend


class RfmOut(Schema):
    r: int
    f: int
    m: int


class CustomerRowOut(Schema):
    public_id: str
    name: str
    masked_phone: str
    source: str
    province: str
    city: str
    level: LevelOut | None
    lifecycle: str
    order_count: int
    total_spent_fen: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    rfm: RfmOut
    tags: list[str]
    created_at: datetime

    @staticmethod
    def resolve_total_spent_fen(obj):
        return obj.total_spent

    @staticmethod
    def resolve_rfm(obj):
        return {"r": obj.rfm_r, "f": obj.rfm_f, "m": obj.rfm_m}

    @staticmethod
    def resolve_tags(obj):
        return [link.tag.name for link in obj.tag_links.all()]


class CustomerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CustomerRowOut]


class TagLinkOut(Schema):
    id: int
    name: str
    automatic: bool

    @staticmethod
    def resolve_id(obj):
        return obj.tag_id

    @staticmethod
    def resolve_name(obj):
        return obj.tag.name


class OwnOrderOut(Schema):
    public_id: str
    number: str
    status: str
    total_fen: int
    created_at: datetime

    @staticmethod
    def resolve_total_fen(obj):
        return obj.total


class ExternalOrderOut(Schema):
    source: str
    external_id: str
    placed_at: datetime
    amount_fen: int
    items: str

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.amount


class NoteOut(Schema):
    id: int
    text: str
    author: str | None
    created_at: datetime

    @staticmethod
    def resolve_author(obj):
        return obj.author.display_name if obj.author_id else None


class FollowUpOut(Schema):
    id: int
    customer_public_id: str
    title: str
    kind: str
    due_on: date
    assignee_id: int | None
    done_at: datetime | None

    @staticmethod
    def resolve_customer_public_id(obj):
        return obj.customer.public_id


class PointsEntryOut(Schema):
    delta: int
    reason: str
    order_id: int | None
    expires_at: datetime | None
    created_at: datetime


class SocialLinkOut(Schema):
    account_id: int
    account_name: str
    status: str
    updated_at: datetime

    @staticmethod
    def resolve_account_name(obj):
        return obj.account.name


class EventOut(Schema):
    at: datetime
    kind: str
    actor_label: str
    data: dict


class CustomerDetailOut(CustomerRowOut):
    assigned_to_id: int | None
    marketing_consent_at: datetime | None
    profiling_consent_at: datetime | None
    anonymized_at: datetime | None
    tag_links: list[TagLinkOut]
    points_balance: int
    points: list[PointsEntryOut]
    orders: list[OwnOrderOut]
    external_orders: list[ExternalOrderOut]
    notes: list[NoteOut]
    follow_ups: list[FollowUpOut]
    social_links: list[SocialLinkOut]
    timeline: list[EventOut]

    # The lists come from customer_history and customer_timeline, put on the customer by the endpoint.
    @staticmethod
    def resolve_tag_links(obj):
        return list(obj.tag_links.all())

    @staticmethod
    def resolve_points_balance(obj):
        return obj.history.points_balance

    @staticmethod
    def resolve_points(obj):
        return obj.history.points

    @staticmethod
    def resolve_orders(obj):
        return obj.history.orders

    @staticmethod
    def resolve_external_orders(obj):
        return obj.history.external_orders

    @staticmethod
    def resolve_notes(obj):
        return obj.history.notes

    @staticmethod
    def resolve_follow_ups(obj):
        return obj.history.follow_ups

    @staticmethod
    def resolve_social_links(obj):
        return obj.history.social_links

    @staticmethod
    def resolve_timeline(obj):
        return obj.timeline_rows


class RevealOut(Schema):
    phone: str = Field(description="The full number. Each call is logged on the customer's timeline.")


class TagAddIn(In):
    tag: Id | str = Field(description="A tag id, or a name (a new name makes a manual tag).")

    @field_validator("tag")
    @classmethod
    def _short(cls, value):
        if isinstance(value, str) and not 1 <= len(value.strip()) <= 20:
            raise ValueError("1 to 20 characters")
        return value


class NoteIn(In):
    text: str = Field(min_length=1, max_length=2000)


class FollowUpIn(In):
    title: str = Field(min_length=1, max_length=120)
    due_on: date
    assignee_id: Id | None = None


class TagOut(Schema):
    id: int
    name: str
    rules: Rules | None
    customer_count: int


class TagIn(In):
    name: str = Field(min_length=1, max_length=20, pattern=NAME_PATTERN)
    rules: TagRulesIn | None = Field(None, description="Segment rules for an automatic tag; null or {}: manual.")


class SegmentRulesIn(In):
    rules: RulesIn


class SegmentIn(SegmentRulesIn):
    name: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN)


class SegmentOut(Schema):
    id: int
    name: str
    rules: Rules
    member_count: int
    evaluated_at: datetime | None


class CountOut(Schema):
    count: int


class ImportForm(In):
    layout: Literal["", "taobao", "jd", "pdd", "generic"] = Field(
        "", description="Empty: recognise the layout from the header."
    )
    mapping: str = Field(
        "",
        max_length=4000,
        description='For the generic layout, JSON {"file header": "field"}; fields: phone, name, external_id, '
        "placed_at, amount, items, province, city, address, buyer.",
    )


class ImportJobOut(Schema):
    id: int
    filename: str
    layout: str
    status: str
    total_rows: int
    processed_rows: int
    imported: int
    merged: int
    unchanged: int
    rejected: int
    created_at: datetime
    finished_at: datetime | None


class ImportJobDetailOut(ImportJobOut):
    rejected_rows: list[dict] = Field(description="[{row, reason, values}] for the rows kept with their reasons.")


class SocialAccountOut(Schema):
    id: int
    name: str
    kind: str
    handle: str
    capacity: int
    owner_id: int | None
    friends: int
    invited: int
    free: int
    percent_full: int
    warning: bool = Field(description="At least 90% of the capacity is used.")
    full: bool


class SocialAccountsOut(Schema):
    accounts: list[SocialAccountOut]
    suggested_account_id: int | None = Field(description="Where new customers should go: the most room left.")


class SocialAccountIn(In):
    name: str = Field(min_length=1, max_length=40, pattern=NAME_PATTERN)
    kind: Literal["wechat", "wecom"] = "wechat"
    handle: str = Field("", max_length=60)
    capacity: int = Field(5000, ge=1, le=100_000)
    owner_id: Id | None = None


class SocialAccountPatchIn(In):
    name: str | None = Field(None, min_length=1, max_length=40, pattern=NAME_PATTERN)
    kind: Literal["wechat", "wecom"] | None = None
    handle: str | None = Field(None, max_length=60)
    capacity: int | None = Field(None, ge=1, le=100_000)
    owner_id: Id | None = None


class SocialLinkIn(In):
    status: SocialStatus


class RfmDistributionOut(Schema):
    total: int
    lifecycle: dict[str, int]
    r: dict[int, int]
    f: dict[int, int]
    m: dict[int, int]
