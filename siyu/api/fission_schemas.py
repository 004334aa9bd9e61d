"""Shapes of the fission, distribution and traceability endpoints. Money is integer fen (`*_fen`),
rates integer basis points (`*_bp`, 100 bp = 1%). Identity numbers and payout accounts are masked."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict, JsonValue
from pydantic.config import JsonDict

from siyu.distribution.promoters import MAX_FREEZE_DAYS, MAX_RATE_BP, MAX_SECOND_TIER_RATE_BP, MAX_TIERS
from siyu.distribution.trace import MAX_QUANTITY
from siyu.referrals.rules import LIMITS as REFERRAL_LIMITS

from .schemas import NAME_PATTERN, Fen, Id, In, PageIn

Bp = Field(ge=0, le=10_000, description="Basis points: 100 = 1%.")


def mask(text: str) -> str:
    text = str(text or "")
    return "*" * len(text) if len(text) <= 6 else text[:3] + "*" * (len(text) - 7) + text[-4:]


# --- referrals -----------------------------------------------------------------------------


class ReferralSettingsOut(Schema):
    enabled: bool
    window_days: int = Field(description="Days a first-touch binding protects the sharer.")
    reward_kind: Literal["points", "credit"]
    referrer_reward: int = Field(description="Points, or fen of store credit.")
    referee_reward: int = Field(description="Points, or fen of store credit.")


class ReferralSettingsIn(In):
    enabled: bool | None = None
    window_days: int | None = Field(None, ge=REFERRAL_LIMITS["window_days"][0], le=REFERRAL_LIMITS["window_days"][1])
    reward_kind: Literal["points", "credit"] | None = None
    referrer_reward: int | None = Field(
        None, ge=REFERRAL_LIMITS["referrer_reward"][0], le=REFERRAL_LIMITS["referrer_reward"][1]
    )
    referee_reward: int | None = Field(
        None, ge=REFERRAL_LIMITS["referee_reward"][0], le=REFERRAL_LIMITS["referee_reward"][1]
    )


class FissionPeriodIn(Schema):
    days: int = Field(30, ge=1, le=366, description="The period: the last N days.")
    period: Literal["day", "week", "month"] = Field("week", description="Bucket of the K-factor series.")


class FunnelOut(Schema):
    invites: int = Field(description="Distinct share codes whose link or poster was opened.")
    visits: int
    visitors: int
    signups: int
    first_orders: int
    revenue_fen: int = Field(description="Referred customers' payments net of refunds.")
    orders: int

    @staticmethod
    def resolve_revenue_fen(obj):
        return obj["revenue"]


class KFactorOut(Schema):
    period: datetime
    invites: int
    new_customers: int
    k: Decimal | None = Field(description="new customers ÷ sharers; null when nobody shared.")


class NewCustomersOut(Schema):
    new_customers: int
    referred: int
    share_bp: int


class TopReferrerOut(Schema):
    kind: Literal["shopper", "staff"]
    id: int
    name: str
    referred: int
    buyers: int
    revenue_fen: int

    @staticmethod
    def resolve_revenue_fen(obj):
        return obj.revenue


class FissionOverviewOut(Schema):
    funnel: FunnelOut
    k_factor: list[KFactorOut]
    new_customers: NewCustomersOut
    top_referrers: list[TopReferrerOut]


class TreeNodeOut(Schema):
    shopper_id: int
    name: str
    depth: int
    bound_at: datetime
    orders: int
    revenue_fen: int
    children: list["TreeNodeOut"]

    @staticmethod
    def resolve_revenue_fen(obj):
        # Nested nodes arrive wrapped in ninja's DjangoGetter (attribute access only), the
        # top-level ones as the service's plain dicts.
        return obj["revenue"] if isinstance(obj, dict) else obj.revenue


class ReferralOut(Schema):
    referee: str = Field(description="The friend's nickname or masked phone.")
    bound_at: datetime
    expires_at: datetime
    first_order_status: str | None
    my_reward: int | None = Field(description="Your reward for this friend (points or fen), if any.")
    my_reward_status: str | None

    @staticmethod
    def resolve_referee(obj):
        return str(obj.referee)

    @staticmethod
    def resolve_my_reward(obj):
        reward = getattr(obj, "my_reward", None)
        return reward.amount if reward else None

    @staticmethod
    def resolve_my_reward_status(obj):
        reward = getattr(obj, "my_reward", None)
        return reward.status if reward else None


class InviteOut(Schema):
    share_code: str
    share_url: str
    poster_url: str | None
    rules: ReferralSettingsOut
    referrals: list[ReferralOut]
    pending_total: int
    granted_total: int


# --- promoters -----------------------------------------------------------------------------


class PromoterOut(Schema):
    id: int
    shopper: str
    share_code: str
    status: str
    real_name: str
    id_number_masked: str
    payout_kind: str
    payout_account_masked: str
    parent_id: int | None
    applied_at: datetime
    decided_at: datetime | None
    note: str

    @staticmethod
    def resolve_shopper(obj):
        return str(obj.shopper)

    @staticmethod
    def resolve_share_code(obj):
        return obj.shopper.share_code

    @staticmethod
    def resolve_id_number_masked(obj):
        return mask(obj.id_number)

    @staticmethod
    def resolve_payout_account_masked(obj):
        return mask(obj.payout_account)


class PromoterPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PromoterOut]


class PromoterFilterIn(PageIn):
    status: Literal["", "applied", "approved", "rejected", "suspended"] = ""


class PromoterDecisionIn(In):
    approve: bool
    note: str = Field("", max_length=200)


class SuspensionIn(In):
    resume: bool = Field(False, description="true lifts a suspension.")
    note: str = Field("", max_length=200)


class PromoterApplyIn(In):
    real_name: str = Field(max_length=40)
    id_number: str = Field(max_length=18, description="18-character mainland resident ID number; stored encrypted.")
    payout_kind: Literal["wechat", "alipay", "bank"]
    payout_account: str = Field(max_length=60)
    parent_code: str = Field("", max_length=12, description="Share code of the promoter who introduced you.")


class MyPromoterOut(Schema):
    status: str
    share_code: str
    applied_at: datetime
    decided_at: datetime | None
    note: str

    @staticmethod
    def resolve_share_code(obj):
        return obj.shopper.share_code


class CommissionOut(Schema):
    id: int
    order_number: str
    product_name: str
    sku_label: str
    quantity: int
    tier: int
    base_amount_fen: int = Field(description="What the customer actually paid for the line.")
    rate_bp: int
    amount_fen: int
    status: str
    created_at: datetime
    settle_after: datetime | None
    settled_at: datetime | None

    @staticmethod
    def resolve_order_number(obj):
        return obj.order.number

    @staticmethod
    def resolve_product_name(obj):
        return obj.line.product_name

    @staticmethod
    def resolve_sku_label(obj):
        return obj.line.sku_label

    @staticmethod
    def resolve_quantity(obj):
        return obj.line.quantity

    @staticmethod
    def resolve_base_amount_fen(obj):
        return obj.base_amount

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.amount


class CommissionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CommissionOut]


class CommissionFilterIn(PageIn):
    status: Literal["", "frozen", "settled", "cancelled"] = ""


class WithdrawalOut(Schema):
    id: int
    amount_fen: int
    status: str
    approvals: int
    created_at: datetime
    finished_at: datetime | None
    note: str

    @staticmethod
    def resolve_amount_fen(obj):
        return obj.amount

    @staticmethod
    def resolve_approvals(obj):
        return len(obj.approvals)


class StaffWithdrawalOut(WithdrawalOut):
    promoter_id: int
    promoter: str
    out_no: str
    approvals_needed: int

    @staticmethod
    def resolve_promoter(obj):
        return str(obj.promoter.shopper)


class WalletOut(Schema):
    frozen_fen: int
    available_fen: int
    withdrawing_fen: int
    paid_out_fen: int
    withdrawals: list[WithdrawalOut]

    @staticmethod
    def resolve_frozen_fen(obj):
        return obj.frozen

    @staticmethod
    def resolve_available_fen(obj):
        return obj.available

    @staticmethod
    def resolve_withdrawing_fen(obj):
        return obj.withdrawing

    @staticmethod
    def resolve_paid_out_fen(obj):
        return obj.paid_out


class WithdrawIn(In):
    amount_fen: Fen = Field(description="How much of the withdrawable balance, in fen.")


class RejectIn(In):
    note: str = Field("", max_length=200)


class WithdrawalPayIn(In):
    retry: bool = Field(False, description="Call the provider again for a payout stuck in paying.")


class SellThroughOut(Schema):
    promoter_id: int
    promoter: str
    orders: int
    customers: int
    repeat_customers: int
    repeat_rate_bp: int
    sales_fen: int
    refunded_fen: int
    refunded_orders: int
    refund_rate_bp: int
    commission_fen: int
    commission_settled_fen: int

    @staticmethod
    def resolve_promoter_id(obj):
        return obj.promoter.pk

    @staticmethod
    def resolve_promoter(obj):
        return str(obj.promoter.shopper)

    @staticmethod
    def resolve_sales_fen(obj):
        return obj.sales

    @staticmethod
    def resolve_refunded_fen(obj):
        return obj.refunded

    @staticmethod
    def resolve_commission_fen(obj):
        return obj.commission

    @staticmethod
    def resolve_commission_settled_fen(obj):
        return obj.commission_settled


class SellThroughIn(Schema):
    days: int = Field(30, ge=1, le=3660)


class FlagOut(Schema):
    id: int
    promoter_id: int
    kind: str
    data: dict
    created_at: datetime
    resolved_at: datetime | None


class DistributionSettingsOut(Schema):
    enabled: bool
    tiers: int = Field(description="1 by default, 2 at most.")
    default_rate_bp: int
    second_tier_rate_bp: int
    freeze_days: int
    min_withdrawal_fen: int
    second_approval_over_fen: int

    @staticmethod
    def resolve_min_withdrawal_fen(obj):
        return obj.min_withdrawal

    @staticmethod
    def resolve_second_approval_over_fen(obj):
        return obj.second_approval_over


class DistributionSettingsIn(In):
    enabled: bool | None = None
    tiers: int | None = Field(None, ge=1, le=MAX_TIERS, description="Commission tiers: 1, or 2 at most.")
    default_rate_bp: int | None = Field(None, ge=0, le=MAX_RATE_BP)
    second_tier_rate_bp: int | None = Field(None, ge=0, le=MAX_SECOND_TIER_RATE_BP)
    freeze_days: int | None = Field(None, ge=0, le=MAX_FREEZE_DAYS)
    min_withdrawal_fen: Fen | None = None
    second_approval_over_fen: Fen | None = None


class CommissionRuleOut(Schema):
    id: int
    product_id: int | None
    category_id: int | None
    tier: int
    rate_bp: int


def _one_of_the_targets() -> list[JsonValue]:
    number: JsonDict = {"type": "integer"}
    return [
        {"required": [this], "properties": {this: number}, "not": {"required": [other], "properties": {other: number}}}
        for this, other in (("product_id", "category_id"), ("category_id", "product_id"))
    ]


class CommissionRuleIn(In):
    """Exactly one of product_id and category_id; a second-tier rate is capped lower than a first."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {"oneOf": _one_of_the_targets()},
                {
                    "anyOf": [
                        {"properties": {"tier": {"const": 1}, "rate_bp": {"maximum": MAX_RATE_BP}}},
                        {
                            "properties": {"tier": {"const": 2}, "rate_bp": {"maximum": MAX_SECOND_TIER_RATE_BP}},
                            "required": ["tier"],
                        },
                    ]
                },
            ]
        }
    )

    product_id: Id | None = Field(None, description="One of this shop's products (404 otherwise).")
    category_id: Id | None = Field(None, description="One of this shop's categories (404 otherwise).")
    tier: int = Field(1, ge=1, le=MAX_TIERS)
    rate_bp: int = Field(ge=0, le=MAX_RATE_BP, description=f"Basis points; tier 2 at most {MAX_SECOND_TIER_RATE_BP}.")


class PriceFloorOut(Schema):
    sku_id: int
    min_price_fen: int

    @staticmethod
    def resolve_min_price_fen(obj):
        return obj.min_price


class PriceFloorIn(In):
    min_price_fen: Fen = Field(description="0 removes the floor.")


# --- traceability --------------------------------------------------------------------------


class TraceBatchIn(In):
    product: str = Field(
        min_length=1,
        max_length=16,
        pattern="^[0-9a-z]+$",
        description="The product's public id (404 if not this shop's).",
    )
    sku_id: Id | None = None
    name: str = Field(max_length=40, pattern=NAME_PATTERN)
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="How many codes, one per item.")


class TraceBatchOut(Schema):
    id: int
    name: str
    product_id: str
    product_name: str
    sku_id: int | None
    quantity: int
    scanned: int = Field(description="Codes scanned at least once.")
    flagged: int = Field(description="Codes flagged as possible copies.")
    last_scan: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_product_id(obj):
        return obj.product.public_id

    @staticmethod
    def resolve_product_name(obj):
        return obj.product.name


class TraceBatchPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TraceBatchOut]


class TraceCodeOut(Schema):
    code: str
    serial: int
    scan_count: int
    first_scan_at: datetime | None
    suspicious: bool
    scan_url: str

    @staticmethod
    def resolve_scan_url(obj, context):
        return context["request"].build_absolute_uri(reverse("storefront:trace", args=[obj.code]))


class TraceCodePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[TraceCodeOut]


class TraceCodeFilterIn(PageIn):
    flagged: bool = False


class TraceScanOut(Schema):
    at: datetime
    place: str
    visitor: str = Field(description="A short keyed hash of the scanner's address, to tell scanners apart.")

    @staticmethod
    def resolve_visitor(obj):
        return obj.ip_hash[:8]


class TraceCodeDetailOut(TraceCodeOut):
    batch_id: int
    scans: list[TraceScanOut] = Field(description="The latest scans, newest first.")


class TraceScanResultOut(Schema):
    genuine: bool = Field(description="Always true here: an unknown code answers 404 trace_unknown.")
    suspicious: bool = Field(description="Scanned from several places or very often: possibly a copied label.")
    first_scan: bool = Field(description="This request was the first scan of the code.")
    code: str
    serial: int
    scan_count: int
    first_scan_at: datetime | None
    product_id: str
    product_name: str
    sku_label: str
    batch: str
