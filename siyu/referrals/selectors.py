"""Reads for the shopper's "invite friends" page and for staff screens."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import OuterRef, Subquery

from siyu.accounts.models import Shopper
from siyu.core.settings_rows import settings_row_get
from siyu.orders.models import Order
from siyu.shops.models import Shop

from .models import ReferralBinding, ReferralReward, ReferralSettings

MY_REFERRALS_ROWS = 100


@dataclass(frozen=True)
class MyReferral:
    """One person a shopper brought in, as their invite page (and the API) shows them."""

    referee: Shopper
    bound_at: datetime
    expires_at: datetime
    first_order_status: str | None  # of their first paid order; None before they pay one
    my_reward: ReferralReward | None  # the referrer's reward for them, once there is one


@dataclass
class InviteOverview:
    rules: ReferralSettings
    referrals: list[MyReferral]
    rewards: list[ReferralReward]  # this shopper's own rewards, newest first
    pending_total: int = 0  # in the shop's current reward kind (points or fen)
    granted_total: int = 0


def referral_settings_for_staff(*, shop: Shop) -> ReferralSettings:
    """The rules as they stand (defaults when never saved). Writes nothing."""
    return settings_row_get(ReferralSettings, shop_id=shop.pk)


def _first_order_status(shop: Shop):
    firsts = Order.objects.filter(shop=shop, shopper_id=OuterRef("referee_id"), paid_at__isnull=False).order_by(
        "paid_at", "id"
    )
    return Subquery(firsts.values("status")[:1])


def referrals_of(
    *, shop: Shop, shopper: Shopper, rewards: list[ReferralReward], limit: int = MY_REFERRALS_ROWS
) -> list[MyReferral]:
    """The people this shopper brought in, newest first, with their first order's status and the
    shopper's reward for each (found in `rewards`, the shopper's own). One query."""
    as_referrer = {r.binding_id: r for r in rewards if r.role == "referrer"}
    bindings = (
        ReferralBinding.objects.filter(shop=shop, referrer_shopper=shopper)
        .select_related("referee")
        .annotate(first_order_status=_first_order_status(shop))
        .order_by("-bound_at", "-id")[:limit]
    )
    return [
        MyReferral(
            referee=b.referee,
            bound_at=b.bound_at,
            expires_at=b.expires_at,
            first_order_status=b.first_order_status,
            my_reward=as_referrer.get(b.pk),
        )
        for b in bindings
    ]


def invite_overview(*, shop: Shop, shopper: Shopper) -> InviteOverview:
    """Rules, the people this shopper brought in and their own rewards: three queries, no writes."""
    rules = referral_settings_for_staff(shop=shop)
    rewards = list(
        ReferralReward.objects.filter(shop=shop, beneficiary__shop=shop, beneficiary__phone_hash=shopper.phone_hash)
        .select_related("order")
        .order_by("-id")
    )
    referrals = referrals_of(shop=shop, shopper=shopper, rewards=rewards)
    overview = InviteOverview(rules=rules, referrals=referrals, rewards=rewards)
    for reward in rewards:
        if reward.kind != rules.reward_kind:
            continue
        if reward.status == ReferralReward.Status.PENDING:
            overview.pending_total += reward.amount
        elif reward.status == ReferralReward.Status.GRANTED:
            overview.granted_total += reward.amount
    return overview
