"""Group buys end to end on the services: open, join, form, fail, refund, auto-fill, limits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict, InvalidInput
from siyu.orders.checkout import order_quote
from siyu.orders.lifecycle import order_cancel
from siyu.orders.models import Order, OrderStatus, OrderTimeline
from siyu.payments.models import Refund, RefundStatus
from siyu.promotions.groupbuys.groups import group_close, groups_sweep
from siyu.promotions.groupbuys.models import Group, GroupMember, GroupStatus, MemberStatus

from ...orders.helpers import pay
from .conftest import buy, make_campaign

M, G = MemberStatus, GroupStatus


@pytest.fixture
def paying(django_capture_on_commit_callbacks):
    """Pay as the sandbox would, running what waits for the commit (hold release, refunds)."""

    def run(order):
        with django_capture_on_commit_callbacks(execute=True):
            return pay(order)

    return run


def _open(shop, campaign, leader, paying) -> Group:
    order = buy(shop, leader, campaign)
    paying(order)
    return Group.objects.get(members__order=order)


def test_leader_opens_a_group_at_the_group_price_held_until_it_forms(shop, campaign, shoppers, paying):
    order = buy(shop, shoppers[0], campaign)
    line = order.lines.get()
    assert (line.unit_price, line.list_price, line.promotion) == (2990, 5000, f"group_buy:{campaign.public_id}")
    order.refresh_from_db()
    assert order.fulfilment_hold == "group_buy"
    member = GroupMember.objects.get(order=order)
    assert member.status == M.PENDING and member.is_leader and member.group is None
    paying(order)
    member.refresh_from_db()
    group = member.group
    assert member.status == M.JOINED and group.status == G.OPEN and group.joined == 1 and group.size == 3
    assert group.deadline > timezone.now() + timedelta(hours=23)


def test_group_forms_at_n_paid_members_and_every_hold_is_cleared(shop, campaign, shoppers, paying):
    group = _open(shop, campaign, shoppers[0], paying)
    second, third = buy(shop, shoppers[1], campaign, group), buy(shop, shoppers[2], campaign, group)
    paying(second)
    group.refresh_from_db()
    assert group.status == G.OPEN and group.joined == 2
    paying(third)
    group.refresh_from_db()
    assert group.status == G.FORMED and group.joined == 3 and group.formed_at
    orders = Order.objects.filter(group_member__group=group)
    assert orders.count() == 3 and all(o.fulfilment_hold == "" and o.status == OrderStatus.PAID for o in orders)
    assert OrderTimeline.objects.filter(order__in=orders, action="group_buy.formed").count() == 3


def test_a_payment_landing_on_a_full_group_is_refunded_in_full(shop, owner, shoppers, paying):
    campaign = make_campaign(shop, owner, size=2)
    group = _open(shop, campaign, shoppers[0], paying)
    late_a, late_b = buy(shop, shoppers[1], campaign, group), buy(shop, shoppers[2], campaign, group)
    paying(late_a)  # forms the group
    paying(late_b)  # lands on a full group
    late_b.refresh_from_db()
    member = GroupMember.objects.get(order=late_b)
    assert member.status == M.REFUNDED and member.why == "group_full"
    assert late_b.status == OrderStatus.CLOSED and late_b.refunded_amount == late_b.paid_amount
    assert Refund.objects.get(payment__order=late_b).status == RefundStatus.SUCCEEDED
    group.refresh_from_db()
    assert group.joined == 2 and group.status == G.FORMED


def test_joining_a_full_group_is_refused_at_checkout(shop, owner, shoppers, paying):
    campaign = make_campaign(shop, owner, size=2)
    group = _open(shop, campaign, shoppers[0], paying)
    paying(buy(shop, shoppers[1], campaign, group))
    with pytest.raises(Conflict) as caught:
        buy(shop, shoppers[2], campaign, group)
    assert caught.value.code == "group_closed"


def test_a_group_not_formed_by_its_deadline_fails_and_every_paid_member_is_refunded(
    shop, campaign, shoppers, paying, django_capture_on_commit_callbacks
):
    group = _open(shop, campaign, shoppers[0], paying)
    joiner, unpaid = buy(shop, shoppers[1], campaign, group), buy(shop, shoppers[2], campaign, group)
    paying(joiner)
    later = group.deadline + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert groups_sweep(now=later)["failed"] == 1
    group.refresh_from_db()
    assert group.status == G.FAILED and group.formed_at is None  # never treated as formed (litemall #159)
    for order in Order.objects.filter(group_member__group=group).exclude(pk=unpaid.pk):
        assert order.status == OrderStatus.CLOSED and order.refunded_amount == order.paid_amount > 0
        assert order.fulfilment_hold == "group_buy"  # never released for shipping
    unpaid.refresh_from_db()
    assert unpaid.status == OrderStatus.CANCELLED
    statuses = sorted(GroupMember.objects.filter(group=group).values_list("status", flat=True))
    assert statuses == [M.CANCELLED, M.REFUNDED, M.REFUNDED]
    # Idempotent: closing again changes nothing, no second refund.
    assert group_close(group_id=group.pk, now=later) == ""
    assert groups_sweep(now=later + timedelta(minutes=20))["failed"] == 0
    assert Refund.objects.filter(payment__order__group_member__group=group).count() == 2


def test_a_payment_after_the_deadline_is_refunded_not_joined(shop, campaign, shoppers, paying, monkeypatch):
    group = _open(shop, campaign, shoppers[0], paying)
    order = buy(shop, shoppers[1], campaign, group)
    Group.objects.filter(pk=group.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    paying(order)
    member = GroupMember.objects.get(order=order)
    assert member.status == M.REFUNDED and member.why == "group_expired"
    group.refresh_from_db()
    assert group.joined == 1


def test_auto_fill_completes_a_short_group_with_virtual_members_shown_as_such(shop, owner, shoppers, paying):
    campaign = make_campaign(shop, owner, size=4, auto_fill=True)
    group = _open(shop, campaign, shoppers[0], paying)
    assert group_close(group_id=group.pk, now=group.deadline + timedelta(seconds=1)) == "formed"
    group.refresh_from_db()
    assert group.status == G.FORMED and group.joined == 4
    virtual = GroupMember.objects.filter(group=group, is_virtual=True)
    assert virtual.count() == 3 and all(v.order_id is None and v.shopper_id is None for v in virtual)
    assert Order.objects.get(group_member__group=group).fulfilment_hold == ""


def test_auto_fill_is_off_by_default_and_never_fills_an_empty_group(shop, owner, campaign, shoppers, paying):
    assert campaign.auto_fill is False
    filled = make_campaign(shop, owner, size=2, auto_fill=True)
    group = _open(shop, filled, shoppers[0], paying)
    Group.objects.filter(pk=group.pk).update(joined=0)  # its only member was refunded meanwhile
    assert group_close(group_id=group.pk, now=group.deadline + timedelta(seconds=1)) == "failed"


def test_per_customer_limit_counts_units_and_a_cancellation_gives_them_back(shop, campaign, shoppers):
    first = buy(shop, shoppers[0], campaign, quantity=2)
    with pytest.raises(Conflict) as caught:
        buy(shop, shoppers[0], campaign)
    assert caught.value.code == "over_limit"
    assert not Order.objects.filter(shopper=shoppers[0]).exclude(pk=first.pk).exists()  # rolled back
    order_cancel(order_id=first.pk, actor="system")
    assert GroupMember.objects.get(order=first).status == M.CANCELLED
    buy(shop, shoppers[0], campaign)
    with pytest.raises(InvalidInput):
        buy(shop, shoppers[1], campaign, quantity=3)


def test_a_shopper_cannot_join_a_group_twice(shop, campaign, shoppers, paying):
    group = _open(shop, campaign, shoppers[0], paying)
    with pytest.raises(Conflict) as caught:
        buy(shop, shoppers[0], campaign, group)
    assert caught.value.code == "group_already_member"


def test_a_member_refunded_before_the_group_forms_leaves_it(shop, owner, campaign, shoppers, paying):
    from siyu.payments.system_refunds import order_refund_whole

    group = _open(shop, campaign, shoppers[0], paying)
    order = buy(shop, shoppers[1], campaign, group)
    paying(order)
    assert order_refund_whole(order_id=order.pk, reason="shopper asked") == "refunded"
    group.refresh_from_db()
    assert group.joined == 1 and GroupMember.objects.get(order=order).status == M.REFUNDED


def test_anonymous_quote_and_a_campaign_not_running(shop, owner, campaign):
    sku = campaign.prices.get().sku
    quote = order_quote(
        shop=shop, items=[{"sku": sku.pk, "quantity": 1}], options={"promotion": f"group_buy:{campaign.public_id}"}
    )
    assert quote.subtotal == 2990
    plain = order_quote(shop=shop, items=[{"sku": sku.pk, "quantity": 1}])
    assert plain.subtotal == 5000
    later = make_campaign(shop, owner, starts_at=timezone.now() + timedelta(days=1))
    with pytest.raises(Conflict):
        order_quote(
            shop=shop,
            items=[{"sku": later.prices.get().sku_id, "quantity": 1}],
            options={"promotion": f"group_buy:{later.public_id}"},
        )
    with pytest.raises(InvalidInput):
        order_quote(shop=shop, items=[{"sku": sku.pk, "quantity": 1}], options={"promotion": "group_buy:../x"})


def test_the_group_price_respects_the_price_floor(shop, owner, campaign, shoppers):
    from siyu.distribution.models import PriceFloor

    PriceFloor.objects.create(shop=shop, sku=campaign.prices.get().sku, min_price=3500)
    with pytest.raises(Conflict) as caught:
        buy(shop, shoppers[0], campaign)
    assert caught.value.code == "below_price_floor"
    assert not GroupMember.objects.exists()
