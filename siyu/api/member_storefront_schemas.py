"""What a shopper sends and sees about their own membership, points and personal data.

Money is integer fen (`*_fen`); discounts are basis points (`discount_bp`, 1000 = 10% off).
"""

from datetime import datetime
from typing import Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema
from pydantic import StrictBool

from .schemas import In, PageIn

REASON_LABELS = {
    "earn": _("Earned on an order"),
    "redeem": _("Used at checkout"),
    "reverse": _("Taken back after a refund"),
    "restore": _("Given back"),
    "expire": _("Expired"),
    "adjust": _("Adjusted by the shop"),
}


class MemberLevelOut(Schema):
    id: int
    name: str
    min_spend_fen: int = Field(description="Cumulative spend that reaches this level, fen.")
    discount_bp: int = Field(description="Member discount in basis points (1000 = 10% off).")
    free_shipping: bool

    @staticmethod
    def resolve_min_spend_fen(obj):
        return obj.min_spend


class BenefitOut(Schema):
    kind: Literal["discount", "free_shipping"]
    label: str
    discount_bp: int | None = Field(None, description="For a discount: its size in basis points.")


class MembershipOut(Schema):
    level: MemberLevelOut | None = Field(description="The level reached; null below the first level.")
    benefits: list[BenefitOut] = Field(description="What the current level gives at checkout.")
    next_level: MemberLevelOut | None = Field(description="The next level up; null at the top.")
    to_next_level_fen: int = Field(description="Spend still needed for the next level, fen (0 at the top).")
    total_spent_fen: int = Field(description="Cumulative spend counted for levels, fen.")
    points_balance: int
    levels: list[MemberLevelOut] = Field(description="Every level of the shop, lowest first.")


class MemberPointsEntryOut(Schema):
    points: int = Field(description="Positive when earned or given back, negative when used or taken.")
    reason: str = Field(description="earn, redeem, reverse, restore, expire or adjust.")
    label: str
    created_at: datetime
    expires_at: datetime | None

    @staticmethod
    def resolve_points(obj):
        return obj.delta

    @staticmethod
    def resolve_label(obj):
        return str(REASON_LABELS.get(obj.reason, REASON_LABELS["adjust"]))


class PointsPage(Schema):
    balance: int
    points_per_yuan_redeemed: int = Field(description="Points that pay 1 yuan at checkout.")
    points_valid_days: int
    count: int
    limit: int
    offset: int
    items: list[MemberPointsEntryOut] = Field(description="Newest first.")


class PointsFilterIn(PageIn):
    pass


class ConsentsOut(Schema):
    marketing: bool = Field(description="Offers and reminders may be sent.")
    marketing_at: datetime | None = Field(description="When the marketing consent was given.")
    profiling: bool = Field(description="Purchases may be used for referral rewards and recommendations.")
    profiling_at: datetime | None


class ConsentsIn(In):
    marketing: StrictBool
    profiling: StrictBool


class DeleteIn(In):
    confirm: str = Field(max_length=40, description='Type "delete" (or "注销") to confirm.')
