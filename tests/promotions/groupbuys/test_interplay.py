"""Group buys with the rest of the shop: commissions and points are computed on the group price
actually paid, and a failed group's automatic refund reverses them (order.refunded)."""

import secrets
from datetime import timedelta

import pytest

from siyu.customers.models import CrmSettings, PointsEntry
from siyu.customers.points import points_balance
from siyu.customers.stats import customer_for_shopper
from siyu.distribution.models import Commission
from siyu.orders.checkout import order_place
from siyu.orders.models import Order, OrderStatus
from siyu.promotions.groupbuys.groups import group_close
from siyu.promotions.groupbuys.models import Group, GroupStatus
from siyu.promotions.results import promotion_results

from ...distribution.promoter_steps import address_for, ship_and_receive, world
from ...factories import make_shopper
from ...orders.helpers import pay
from .conftest import make_campaign

pytestmark = pytest.mark.django_db
GROUP_PRICE = 6000  # the tea sells at 100.00; its group price is 60.00


def _place(w, shopper, campaign, group=None, **options):
    """A group-buy order through the promoter's link (open a group, or join `group`)."""
    promotion = f"group_buy:{campaign.public_id}" + (f":{group.public_id}" if group else "")
    return order_place(
        shop=w.shop,
        shopper=shopper,
        items=[{"sku": w.tea.skus.get().pk, "quantity": 1}],
        address_id=address_for(w.shop, shopper).public_id,
        idempotency_key=secrets.token_hex(8),
        ref_code=w.promoter.shopper.share_code,
        options={"promotion": promotion, **options},
    )


def _balance(shop, shopper) -> int:
    return points_balance(customer=customer_for_shopper(shop=shop, shopper=shopper))


@pytest.fixture
def w(shop, owner):
    CrmSettings.objects.create(shop=shop, points_per_yuan=1, points_valid_days=30)
    return world(shop, owner, default_rate_bp=1000)


@pytest.fixture
def campaign(shop, owner, w):
    return make_campaign(shop, owner, size=2, product=w.tea, prices={w.tea.skus.get().pk: GROUP_PRICE})


def test_commission_and_points_are_on_the_group_price_paid(shop, w, campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        leader = _place(w, w.buyer, campaign)
        pay(leader)
    group = Group.objects.get(members__order=leader)
    with django_capture_on_commit_callbacks(execute=True):
        joiner = _place(w, make_shopper(), campaign, group)
        pay(joiner)
    group.refresh_from_db()
    leader.refresh_from_db()
    assert group.status == GroupStatus.FORMED and leader.fulfilment_hold == ""
    line = leader.lines.get()
    assert (line.list_price, line.unit_price) == (10000, GROUP_PRICE)
    for order in (leader, joiner):
        commission = Commission.objects.get(order=order)
        assert (commission.base_amount, commission.amount) == (GROUP_PRICE, GROUP_PRICE // 10)  # not 100.00's 10.00
    with django_capture_on_commit_callbacks(execute=True):
        ship_and_receive(w, leader)
    assert leader.status == OrderStatus.COMPLETED
    earned = PointsEntry.objects.get(order_id=leader.pk, reason="earn")
    # one point a yuan of what was paid: the group price (and any postage), never the list price
    assert earned.delta == leader.paid_amount // 100 == (GROUP_PRICE + leader.shipping_fee) // 100


def test_a_failed_groups_refund_reverses_commission_and_gives_back_points(
    shop, w, campaign, django_capture_on_commit_callbacks
):
    customer = customer_for_shopper(shop=shop, shopper=w.buyer)
    PointsEntry.objects.create(shop=shop, customer=customer, delta=1000, reason="adjust")
    with django_capture_on_commit_callbacks(execute=True):
        leader = _place(w, w.buyer, campaign, points=1000)  # 1000 points pay 10.00 of the 60.00
        pay(leader)
    leader.refresh_from_db()
    assert leader.points_used == 1000 and leader.lines.get().unit_price == GROUP_PRICE
    assert _balance(shop, w.buyer) == 0
    commission = Commission.objects.get(order=leader)
    assert commission.base_amount == GROUP_PRICE - 1000 and commission.amount == (GROUP_PRICE - 1000) // 10
    group = Group.objects.get(members__order=leader)
    with django_capture_on_commit_callbacks(execute=True):
        assert group_close(group_id=group.pk, now=group.deadline + timedelta(seconds=1)) == "failed"
    leader.refresh_from_db()
    assert leader.status == OrderStatus.CLOSED and leader.refunded_amount == leader.paid_amount > 0
    commission.refresh_from_db()
    assert commission.status == Commission.Status.CANCELLED and commission.amount == 0
    assert _balance(shop, w.buyer) == 1000  # the points it was priced with came back, once
    assert not PointsEntry.objects.filter(order_id=leader.pk, reason="earn").exists()  # never completed
    # a second run of the deadline job changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert group_close(group_id=group.pk, now=group.deadline + timedelta(seconds=2)) == ""
    assert _balance(shop, w.buyer) == 1000
    results = promotion_results(shop=shop, kind="group_buy", ref=campaign.public_id)
    assert results.revenue == 0  # everything paid went back
    assert Order.objects.get(pk=leader.pk).refunded_amount == leader.paid_amount
