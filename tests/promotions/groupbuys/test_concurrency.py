"""Real concurrency on PostgreSQL: payments racing into one group, and racing its deadline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.orders.models import Order, OrderStatus
from siyu.payments.models import Refund, RefundStatus
from siyu.promotions.groupbuys.groups import group_close
from siyu.promotions.groupbuys.models import Group, GroupMember, GroupStatus, MemberStatus
from tests.concurrency import run_parallel

from ...factories import make_shopper
from ...orders.helpers import pay
from .conftest import buy, make_campaign

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]
M, G = MemberStatus, GroupStatus


def _outcomes(group):
    """(joined members' orders, refunded members' orders) with their orders' money checked."""
    joined, refunded = [], []
    for member in GroupMember.objects.filter(group=group, is_virtual=False).select_related("order"):
        order = member.order
        if member.status == M.JOINED:
            assert order.status == OrderStatus.PAID and order.refunded_amount == 0
            joined.append(order)
        else:
            assert member.status == M.REFUNDED, member.status
            assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount
            assert Refund.objects.get(payment__order=order).status == RefundStatus.SUCCEEDED
            refunded.append(order)
    return joined, refunded


def test_n_plus_3_joiners_paying_at_once_give_exactly_n_members(shop, owner):
    size = 5
    campaign = make_campaign(shop, owner, size=size)
    leader = buy(shop, make_shopper(), campaign)
    pay(leader)
    group = Group.objects.get(members__order=leader)
    joiners = [buy(shop, make_shopper(), campaign, group) for _ in range(size - 1 + 3)]
    answers = run_parallel(pay, [(o,) for o in joiners])
    assert all(a == "paid" for a in answers), answers
    group.refresh_from_db()
    assert group.status == G.FORMED and group.joined == size
    joined, refunded = _outcomes(group)
    assert len(joined) == size and len(refunded) == 3
    assert all(o.fulfilment_hold == "" for o in joined)
    assert all(o.fulfilment_hold == "group_buy" for o in refunded)


@pytest.mark.parametrize("auto_fill", [False, True])
def test_a_payment_racing_the_deadline_job_joins_or_is_refunded_never_both(shop, owner, auto_fill):
    for _round in range(4):
        campaign = make_campaign(shop, owner, size=3, auto_fill=auto_fill)
        leader = buy(shop, make_shopper(), campaign)
        pay(leader)
        group = Group.objects.get(members__order=leader)
        last = buy(shop, make_shopper(), campaign, group)
        # The deadline is now: the job may take the group before or after the payment.
        Group.objects.filter(pk=group.pk).update(deadline=timezone.now() + timedelta(milliseconds=30))
        later = timezone.now() + timedelta(seconds=5)

        def race(job, order=last, group_id=group.pk, now=later):
            return pay(order) if job == "pay" else group_close(group_id=group_id, now=now)

        run_parallel(race, [("pay",), ("close",)])
        group.refresh_from_db()
        joined, refunded = _outcomes(group)
        last.refresh_from_db()
        assert (last in joined) != (last in refunded)
        if group.status == G.FAILED:
            assert not joined and group.formed_at is None  # an under-filled group is never treated as formed
            assert all(o.fulfilment_hold == "group_buy" for o in refunded)
        else:
            assert auto_fill and group.status == G.FORMED and group.joined == 3
            assert GroupMember.objects.filter(group=group, is_virtual=True).count() == 3 - len(joined)
            assert all(o.fulfilment_hold == "" for o in joined)
        # What never happens: a group formed with fewer paid-or-virtual members than its size.
        assert not Group.objects.filter(status=G.FORMED, joined__lt=3).exists()
        assert Order.objects.filter(pk=last.pk, status=OrderStatus.CLOSED).exists() == (last in refunded)
