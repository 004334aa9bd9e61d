"""Groups: who is in, decided when the money lands; formed at N paid members; failed (and every
paid member refunded) at the deadline.

A joiner pays first, and membership is decided in the payment's own transaction (the `order.paid`
subscriber), under the group's row lock. A payment that lands on a group that is full, formed,
failed or past its deadline is refunded in full at once (`order_refund_whole`, after commit). We
refund rather than move the shopper into a new group they would lead: they asked to join a
friend's group; holding their money in a group of their own that may well fail a day later is
worse than giving it back now (they can open a group themselves with one tap).

Locks (siyu/core/locks.py). Every path takes the order before the group:
- payment: the order (20) and payment (40) rows are held by the payment path; then the group row
  (REACTION, 70); then the member and the shopper's GroupBuyer counter (REACTION, under the group).
- placement / cancellation / refund: the order (held by the caller), then the counter (REACTION);
  a refund of a joined member of an open group also locks the group (REACTION).
- deadline: the group alone (REACTION); the member orders are then cancelled or refunded each in a
  transaction of its own (order first), after the group's has committed.
- formed: holds are cleared after the forming payment commits, each order in a transaction of
  its own (order lock only). Clearing them inside the payment's transaction would lock other
  orders after the group, against the global order.
Member rows change under their order's lock (pending, cancelled) or their group's (joined).
"""

import logging
from datetime import timedelta
from typing import cast

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from siyu.accounts.models import Shopper
from siyu.core import locks
from siyu.core.errors import Conflict, DomainError, InvalidInput
from siyu.core.events import event_order_id
from siyu.core.ids import public_id
from siyu.orders.lifecycle import order_cancel, order_lock, timeline_add
from siyu.orders.models import Order, OrderLine, OrderStatus
from siyu.payments.system_refunds import order_refund_whole

from .campaigns import shop_runs_group_buys
from .models import Group, GroupBuy, GroupBuyer, GroupMember, GroupStatus, MemberStatus
from .pricing import JOIN_KIND, KIND
from .states import GROUP_STATES, MEMBER_STATES

logger = logging.getLogger("siyu.promotions")
G, M = GroupStatus, MemberStatus
HOLD = "group_buy"  # Order.fulfilment_hold until the group forms
RETRY_AFTER = timedelta(minutes=10)


# --- the order events -------------------------------------------------------------------------


def _named(event, kind: str) -> str:
    for name in event.payload.get("promotions") or []:
        found_kind, _sep, ref = str(name).partition(":")
        if found_kind == kind:
            return ref
    return ""


def member_on_place(event) -> None:
    """In the order's transaction: the order waits for its group (fulfilment hold), the shopper's
    units are counted against the limit (a refusal rolls the order back) and the member is made,
    pending. No query for an order without a group buy."""
    ref = _named(event, KIND)
    if not ref:
        return
    order_id = event_order_id(event)
    campaign = GroupBuy.objects.filter(shop_id=event.shop_id, public_id=ref).first()
    if campaign is None:
        raise InvalidInput(detail={"promotion": "group buy not found"})
    join = _named(event, JOIN_KIND)
    group = Group.objects.filter(campaign=campaign, public_id=join).first() if join else None
    if join and group is None:
        raise InvalidInput(detail={"promotion": "group not found"})
    quantity = (
        OrderLine.objects.filter(order_id=order_id, promotion=f"{KIND}:{ref}").aggregate(n=Sum("quantity"))["n"] or 0
    )
    shopper = Shopper.objects.get(pk=event.payload["shopper"])
    _units_take(campaign=campaign, shopper_id=shopper.pk, quantity=quantity)
    Order.objects.filter(pk=order_id).update(fulfilment_hold=HOLD)
    GroupMember.objects.create(
        shop_id=event.shop_id,
        campaign=campaign,
        group=group,
        order_id=order_id,
        shopper=shopper,
        display_name=str(shopper)[:40],
        quantity=quantity,
        is_leader=group is None,
    )


def _units_take(*, campaign: GroupBuy, shopper_id: int, quantity: int) -> None:
    """Count units against the per-customer limit with one conditional UPDATE (no check-then-act)."""
    buyer, _made = GroupBuyer.objects.get_or_create(campaign=campaign, shopper_id=shopper_id)
    locks.note_update(rank=locks.REACTION, table=GroupBuyer._meta.db_table, pks=[buyer.pk])
    limit = campaign.per_customer_limit
    if not GroupBuyer.objects.filter(pk=buyer.pk, units__lte=limit - quantity).update(units=F("units") + quantity):
        raise Conflict(code="over_limit", detail={"limit": limit})


def _units_give_back(member: GroupMember) -> None:
    if member.shopper_id is None or not member.quantity:
        return
    rows = GroupBuyer.objects.filter(campaign_id=member.campaign_id, shopper_id=member.shopper_id)
    rows.filter(units__gte=member.quantity).update(units=F("units") - member.quantity)


def _member_of(event) -> GroupMember | None:
    if not shop_runs_group_buys(shop_id=event.shop_id):
        return None
    return GroupMember.objects.filter(order_id=event_order_id(event)).select_related("campaign").first()


def member_on_paid(event) -> None:
    """In the payment's transaction (order and payment locked): decide the member under the
    group's lock. A leader's payment opens the group."""
    member = _member_of(event)
    if member is None or member.status not in (M.PENDING, M.CANCELLED):
        return  # not a group order, or decided already (a repeated event changes nothing)
    now = timezone.now()
    if member.status == M.CANCELLED:  # paid after cancellation (reinstated): its place was given up
        _refund_due(member, why="cancelled")
        return
    if member.group_id is None:
        _open(member, now)
        return
    group = locks.lock_one(Group.objects.filter(pk=member.group_id), rank=locks.REACTION)
    why = _refusal(group=group, member=member, now=now)
    if why:
        _refund_due(member, why=why)
        return
    joined = group.joined + 1
    MEMBER_STATES.move(member, to=M.JOINED, actor="payment", why="paid", fields={"joined_at": now})
    if joined == group.size:
        GROUP_STATES.move(group, to=G.FORMED, actor="payment", why="full", fields={"joined": joined, "formed_at": now})
        transaction.on_commit(lambda: group_holds_release(group_id=group.pk))
    else:
        Group.objects.filter(pk=group.pk).update(joined=F("joined") + 1)


def _open(member: GroupMember, now) -> Group:
    campaign = member.campaign
    group = Group.objects.create(
        shop_id=member.shop_id,
        campaign=campaign,
        public_id=public_id(16),
        leader=cast(Shopper, member.shopper),  # a member with an order always has its shopper
        size=campaign.group_size,
        joined=1,
        deadline=now + timedelta(hours=campaign.hours),
    )
    MEMBER_STATES.move(member, to=M.JOINED, actor="payment", why="opened", fields={"group": group, "joined_at": now})
    return group


def _refusal(*, group: Group, member: GroupMember, now) -> str:
    """Why a payment cannot join the (locked) group, or ""."""
    if group.status == G.FORMED or group.joined >= group.size:
        return "group_full"
    if group.status == G.FAILED:
        return "group_failed"
    if group.deadline <= now:
        return "group_expired"
    if GroupMember.objects.filter(group=group, shopper=member.shopper, status=M.JOINED).exists():
        return "already_member"
    return ""


def _refund_due(member: GroupMember, *, why: str) -> None:
    MEMBER_STATES.move(member, to=M.REFUNDING, actor="system", why=why, fields={"why": why})
    member_id = member.pk
    transaction.on_commit(lambda: _refund_later(member_id))


def _refund_later(member_id: int) -> None:
    from .tasks import group_member_refund

    try:
        group_member_refund(member_id)
    except Exception:  # noqa: BLE001 - the sweep retries; the payment that got us here has committed
        logger.exception("group member %s: refund not started; the sweep retries", member_id)


def member_on_cancelled(event) -> None:
    """In the cancellation's transaction (order locked): an unpaid member gives up its place."""
    member = _member_of(event)
    if member is None or member.status != M.PENDING:
        return
    MEMBER_STATES.move(member, to=M.CANCELLED, actor="system", why="order cancelled")
    _units_give_back(member)


def member_on_refunded(event) -> None:
    """In the refund's transaction (order locked): once the order is fully refunded, a member
    being refunded is done, and a member of a group still open leaves it (the place is free
    again). A member of a formed group stays: the group bought together; this is an after-sale."""
    member = _member_of(event)
    if member is None or member.status not in (M.REFUNDING, M.JOINED):
        return
    if Order.objects.filter(pk=event_order_id(event)).values_list("status", flat=True).first() != OrderStatus.CLOSED:
        return  # a partial refund
    if member.status == M.JOINED:
        group = locks.lock_one(Group.objects.filter(pk=member.group_id or 0), rank=locks.REACTION)
        if group is None or group.status != G.OPEN:
            return
        Group.objects.filter(pk=group.pk, joined__gt=0).update(joined=F("joined") - 1)
    MEMBER_STATES.move(member, to=M.REFUNDED, actor="payment", why="order refunded")
    _units_give_back(member)


# --- after commit and in the worker -----------------------------------------------------------


def group_holds_release(*, group_id: int) -> int:
    """Let a formed group's orders ship: clear each hold, with a timeline row. Idempotent; each
    order in its own transaction (locks: that order). Returns how many were released."""
    if not Group.objects.filter(pk=group_id, status=G.FORMED).exists():
        return 0
    held = list(
        GroupMember.objects.filter(group_id=group_id, status=M.JOINED, order__fulfilment_hold=HOLD)
        .order_by("order_id")
        .values_list("order_id", flat=True)
    )
    done = 0
    for order_id in held:
        with transaction.atomic():
            order = order_lock(order_id=order_id)
            if order.fulfilment_hold != HOLD:
                continue
            Order.objects.filter(pk=order_id).update(fulfilment_hold="")
            timeline_add(order=order, actor="system", action="group_buy.formed", note="group formed")
            done += 1
    return done


def group_member_refund(*, member_id: int) -> str:
    """Refund a member whose refund is due, in full, through the original provider. Idempotent:
    `order_refund_whole` claims under the order's lock, so a repeat claims nothing."""
    member = GroupMember.objects.filter(pk=member_id, status=M.REFUNDING).first()
    if member is None or member.order_id is None:
        return "nothing"
    GroupMember.objects.filter(pk=member_id).update(updated_at=timezone.now())  # spaces the sweep's retries
    try:
        return order_refund_whole(order_id=member.order_id, reason=f"group buy: {member.why}"[:100])
    except Conflict as exc:
        logger.warning("group member %s: %s", member_id, exc.code)
        return exc.code


def group_close(*, group_id: int, now=None) -> str:
    """At the deadline: form the group with virtual members (auto-fill on, someone paid) or fail
    it. Failing refunds every paid member and cancels the unpaid orders, each after the group's
    transaction commits. Returns "formed", "failed" or "" (not due, or decided already)."""
    now = now or timezone.now()
    with transaction.atomic():
        group = locks.lock_one(Group.objects.filter(pk=group_id).select_related("campaign"), rank=locks.REACTION)
        if group is None or group.status != G.OPEN or group.deadline > now:
            return ""
        if group.campaign.auto_fill and group.joined > 0:
            GroupMember.objects.bulk_create(
                [
                    GroupMember(
                        shop_id=group.shop_id,
                        campaign_id=group.campaign_id,
                        group=group,
                        is_virtual=True,
                        status=M.JOINED,
                        joined_at=now,
                        quantity=0,
                    )
                    for _i in range(group.size - group.joined)
                ]
            )
            why = f"auto-filled with {group.size - group.joined} virtual members"
            GROUP_STATES.move(
                group, to=G.FORMED, actor="system", why=why, fields={"joined": group.size, "formed_at": now}
            )
            outcome = "formed"
        else:
            GROUP_STATES.move(
                group, to=G.FAILED, actor="system", why="not formed by the deadline", fields={"failed_at": now}
            )
            MEMBER_STATES.claim(
                GroupMember.objects.filter(group=group), current=M.JOINED, to=M.REFUNDING, why="group_failed"
            )
            outcome = "failed"
    if outcome == "formed":
        group_holds_release(group_id=group_id)
    else:
        _failed_follow_up(group_id=group_id)
    return outcome


def _failed_follow_up(*, group_id: int) -> None:
    """A failed group's money goes back and its unpaid orders are cancelled (idempotent)."""
    for member_id in GroupMember.objects.filter(group_id=group_id, status=M.REFUNDING).values_list("pk", flat=True):
        group_member_refund(member_id=member_id)
    pending = GroupMember.objects.filter(
        group_id=group_id, status=M.PENDING, order__status=OrderStatus.PENDING_PAYMENT
    ).values_list("order_id", flat=True)
    for order_id in list(pending):
        try:
            order_cancel(order_id=order_id, actor="system", reason="group buy failed")
        except DomainError:
            continue  # paid meanwhile: its payment was refused by the failed group


def groups_sweep(*, now=None, limit: int = 200) -> dict:
    """The worker, every minute: close groups past their deadline, and finish what a crash may
    have left: holds of formed groups, refunds due, unpaid orders of failed groups."""
    now = now or timezone.now()
    due = list(
        Group.objects.filter(status=G.OPEN, deadline__lte=now).order_by("id").values_list("pk", flat=True)[:limit]
    )
    closed = [group_close(group_id=pk, now=now) for pk in due]
    held = (
        GroupMember.objects.filter(group__status=G.FORMED, status=M.JOINED, order__fulfilment_hold=HOLD)
        .values_list("group_id", flat=True)
        .distinct()[:limit]
    )
    released = sum(group_holds_release(group_id=pk) for pk in list(held))
    stale = GroupMember.objects.filter(status=M.REFUNDING, updated_at__lt=now - RETRY_AFTER)
    retried = [group_member_refund(member_id=pk) for pk in list(stale.values_list("pk", flat=True)[:limit])]
    failed_unpaid = (
        GroupMember.objects.filter(group__status=G.FAILED, status=M.PENDING, order__status=OrderStatus.PENDING_PAYMENT)
        .values_list("group_id", flat=True)
        .distinct()[:limit]
    )
    for pk in list(failed_unpaid):
        _failed_follow_up(group_id=pk)
    return {
        "formed": closed.count("formed"),
        "failed": closed.count("failed"),
        "released": released,
        "refunds_retried": len(retried),
    }
