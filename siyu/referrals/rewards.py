"""Rewards for bringing a friend who really buys.

When a referred customer's FIRST order (their earliest paid order in the shop, placed within the
binding's window) is completed, one pending reward per side is written (the referrer's, when the
referrer is a shopper: staff are paid by the shop, not by rewards; and the new customer's). It is
due once no refund can be asked for any more: at local midnight after the last refund day of the
order (the longest after-sale window, quality claims included: siyu.orders.windows), the same
rule promoter commission settles by. A reward granted after the 7-day return period alone could
be spent before a quality refund on day 8 to 30 takes it back.

A periodic task grants the due rewards into the points ledger or the store-credit ledger, each with
a `referral.rewarded` event (promotions give the shop's referral coupons on it). A refund
of that order — any refund, before or after the grant — forfeits both rewards in the refund's own
transaction: pending ones are marked not granted, granted ones are reversed with a negative entry.
A reversal never overdraws a balance: what was already spent is written off and noted on the reward.
Every status change goes through REWARD (pending → granted | skipped, granted → reversed), which
writes an audit row with from, to and why.

Lock order everywhere: the order row, then its reward rows, then customer rows (points, credit).
Rewards are not marketing; nothing here sends a message.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from siyu.core.events import event_record
from siyu.core.states import StateMachine
from siyu.customers.models import CrmSettings, Customer, CustomerEvent, PointsEntry
from siyu.customers.points import points_balance
from siyu.customers.stats import customer_for_shopper
from siyu.orders.models import AfterSale, Order, OrderStatus
from siyu.orders.states import OPEN as OPEN_AFTER_SALES  # every after-sale still in progress
from siyu.orders.windows import refund_window_end

from .models import CreditEntry, ReferralBinding, ReferralReward, ReferralSettings
from .rules import referral_settings_get

GRANT, REVERSE = "referral", "referral_reverse"
REFERRER, REFEREE = "referrer", "referee"
S = ReferralReward.Status


REWARD = StateMachine(
    name="referral_reward",
    table={
        S.PENDING: {S.GRANTED, S.SKIPPED},
        S.GRANTED: {S.REVERSED},
        S.SKIPPED: set(),
        S.REVERSED: set(),
    },
    labels=dict(S.choices),
)


def return_window_end(received_at: datetime) -> datetime:
    """When the rewards of an order received at `received_at` fall due: the first moment after
    the last day a refund can be asked for (orders.windows, shared with commission settlement)."""
    return refund_window_end(received_at=received_at)


def first_order_id(*, shop_id: int, shopper_id: int) -> int | None:
    """The shopper's first order in the shop: the earliest one ever paid (cancelled-unpaid ones
    never were; a refunded one still was)."""
    return (
        Order.objects.filter(shop_id=shop_id, shopper_id=shopper_id, paid_at__isnull=False)
        .order_by("paid_at", "id")
        .values_list("pk", flat=True)
        .first()
    )


def _eligible_binding(order: Order) -> ReferralBinding | None:
    binding = (
        ReferralBinding.objects.select_related("referrer_shopper")
        .filter(shop_id=order.shop_id, referee_id=order.shopper_id)
        .first()
    )
    if binding is None or not binding.bound_at <= order.created_at <= binding.expires_at:
        return None
    if first_order_id(shop_id=order.shop_id, shopper_id=order.shopper_id) != order.pk:
        return None
    return binding


def _reward_rows(order: Order, binding: ReferralBinding, rules: ReferralSettings, due: datetime) -> list:
    status = S.PENDING if order.refunded_amount == 0 else S.SKIPPED
    note = "" if status == S.PENDING else "order refunded"
    sides = [(REFEREE, order.shopper, rules.referee_reward)]
    if binding.referrer_shopper is not None:
        sides.insert(0, (REFERRER, binding.referrer_shopper, rules.referrer_reward))
    return [
        ReferralReward(
            shop_id=order.shop_id,
            binding=binding,
            order=order,
            beneficiary=customer_for_shopper(shop=order.shop, shopper=shopper),
            role=role,
            kind=rules.reward_kind,
            amount=amount,
            status=status,
            grant_after=due,
            note=note,
        )
        for role, shopper, amount in sides
        if amount > 0
    ]


def referral_rewards_create(*, order_id: int) -> list[ReferralReward]:
    """On order.completed: the pending rewards of a referred customer's first order. Idempotent
    (once per binding, whatever the event deliveries). Locks: the order row."""
    order = Order.objects.select_related("shop", "shopper").filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.COMPLETED or order.received_at is None:
        return []
    binding = _eligible_binding(order)
    if binding is None:
        return []
    rules = referral_settings_get(shop=order.shop_id)
    if not rules.enabled:
        return []
    with transaction.atomic():
        order = Order.objects.select_related("shop", "shopper").select_for_update(of=("self",)).get(pk=order.pk)
        # Re-checked under the lock: a refund may have moved the order on since the read above.
        if order.status != OrderStatus.COMPLETED or order.received_at is None:
            return []
        if ReferralReward.objects.filter(binding=binding).exists():
            return []
        rows = _reward_rows(order, binding, rules, return_window_end(order.received_at))
        return ReferralReward.objects.bulk_create(rows)


# --- ledgers -----------------------------------------------------------------------------------


def credit_balance(*, customer: Customer | int) -> int:
    customer_id = customer if isinstance(customer, int) else customer.pk
    return CreditEntry.objects.filter(customer_id=customer_id).aggregate(total=Coalesce(Sum("delta"), 0))["total"]


def _lock_customer(customer_id: int) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer_id)


def _write(reward: ReferralReward, customer: Customer, delta: int, reason: str, now: datetime) -> None:
    if reward.kind == ReferralSettings.RewardKind.CREDIT:
        CreditEntry.objects.create(
            shop_id=reward.shop_id, customer=customer, delta=delta, reason=reason, ref=f"reward:{reward.pk}"
        )
        return
    expires_at = None
    if delta > 0:
        rules = CrmSettings.objects.filter(shop_id=reward.shop_id).first() or CrmSettings(shop_id=reward.shop_id)
        expires_at = now + timedelta(days=rules.points_valid_days)
    PointsEntry.objects.create(
        shop_id=reward.shop_id,
        customer=customer,
        delta=delta,
        reason=reason,
        order_id=reward.order_id,
        expires_at=expires_at,
    )


def _balance(reward: ReferralReward, customer: Customer) -> int:
    if reward.kind == ReferralSettings.RewardKind.CREDIT:
        return credit_balance(customer=customer)
    return points_balance(customer=customer)


def _timeline(reward: ReferralReward, kind: str, **data) -> None:
    CustomerEvent.objects.create(
        shop_id=reward.shop_id,
        customer_id=reward.beneficiary_id,
        kind=kind,
        actor_label="system",
        data={"order": reward.order_id, "role": reward.role, "kind": reward.kind, **data},
    )


def _grant(reward: ReferralReward, now: datetime) -> None:
    customer = _lock_customer(reward.beneficiary_id)
    _write(reward, customer, reward.amount, GRANT, now)
    REWARD.move(reward, to=S.GRANTED, actor="system", why="no refund possible any more", fields={"granted_at": now})
    _timeline(reward, "referral_reward", amount=reward.amount)
    event_record(topic="referral.rewarded", shop_id=reward.shop_id, payload=_reward_payload(reward, customer))


def _reward_payload(reward: ReferralReward, customer: Customer) -> dict:
    return {
        "reward": reward.pk,
        "order": reward.order_id,
        "role": reward.role,
        "customer": customer.pk,
        "shopper": customer.shopper_id,
    }


def _skip(rewards: list[ReferralReward], note: str) -> None:
    """Locked pending rewards that will never be granted (two at most per order: one row each)."""
    for reward in rewards:
        REWARD.move(reward, to=S.SKIPPED, actor="system", why=note, fields={"note": note})


def _grant_order(order_id: int, now: datetime) -> int:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        rewards = list(
            ReferralReward.objects.select_for_update()
            .filter(order_id=order_id, status=S.PENDING, grant_after__lte=now)
            .order_by("pk")
        )
        if order is None or not rewards:
            return 0
        if order.status != OrderStatus.COMPLETED or order.refunded_amount > 0:
            _skip(rewards, "order refunded")
            return 0
        if AfterSale.objects.filter(order=order, status__in=OPEN_AFTER_SALES).exists():
            return 0  # a return is being handled: wait for its outcome
        for reward in rewards:
            _grant(reward, now)
        return len(rewards)


def referral_rewards_grant_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Grant the pending rewards whose return window is over. Safe to run any number of times.
    Returns the number of rewards granted."""
    now = now or timezone.now()
    order_ids = (
        ReferralReward.objects.filter(status=S.PENDING, grant_after__lte=now)
        .order_by("order_id")
        .values_list("order_id", flat=True)
        .distinct()[:limit]
    )
    return sum(_grant_order(order_id, now) for order_id in list(order_ids))


def _reverse(reward: ReferralReward, now: datetime) -> None:
    customer = _lock_customer(reward.beneficiary_id)
    taken = min(reward.amount, max(_balance(reward, customer), 0))
    if taken:
        _write(reward, customer, -taken, REVERSE, now)
    shortfall = reward.amount - taken
    note = f"order refunded; {shortfall} already spent, written off" if shortfall else "order refunded"
    REWARD.move(reward, to=S.REVERSED, actor="refund", why=note, fields={"reversed_at": now, "note": note})
    _timeline(reward, "referral_reward_reversed", amount=taken, shortfall=shortfall)


def referral_rewards_reverse(*, order_id: int, now: datetime | None = None) -> dict:
    """On order.refunded, inside the refund's transaction: forfeit the order's referral rewards
    (see the module note). Idempotent. Locks: the order row (held by the refund), the reward rows,
    then the beneficiaries' customer rows."""
    now = now or timezone.now()
    result = {"skipped": 0, "reversed": 0}
    with transaction.atomic():
        rewards = list(
            ReferralReward.objects.select_for_update()
            .filter(order_id=order_id, status__in=[S.PENDING, S.GRANTED])
            .order_by("pk")
        )
        pending = [r for r in rewards if r.status == S.PENDING]
        if pending:
            _skip(pending, "order refunded")
            result["skipped"] = len(pending)
        for reward in rewards:
            if reward.status == S.GRANTED:
                _reverse(reward, now)
                result["reversed"] += 1
    return result
