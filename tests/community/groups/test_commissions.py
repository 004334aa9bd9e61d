"""Leader rewards inside the compliant-distribution rules: paid on the group's retail sales through
the ordinary commission path (one tier), taken back on refund, nothing for members joining, and
never two commissions for one order."""

import pytest

from siyu.community.groups.models import GroupOrder
from siyu.community.groups.services import group_join, group_member_add, group_update
from siyu.core.errors import Conflict
from siyu.customers.stats import customer_for_shopper
from siyu.distribution import ledger
from siyu.distribution.models import Commission, DistributionSettings, LedgerEntry
from siyu.distribution.promoters import promoter_suspend
from siyu.referrals.models import ReferralBinding, ReferralReward
from tests.distribution.promoter_steps import World, approved_promoter, refund_line
from tests.factories import make_shopper

from .conftest import buy, new_group

pytestmark = pytest.mark.django_db


def test_leader_is_paid_on_an_attributed_paid_order(shop, leader, buyer, tea, django_capture_on_commit_callbacks):
    promoter, group = leader
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=buyer, code=group.code)
        order = buy(shop, buyer, tea, quantity=2)  # 200.00 at the default 10%
    assert order.ref_code == promoter.shopper.share_code
    assert GroupOrder.objects.get(order=order).leader_promoter == promoter
    commission = Commission.objects.get()
    assert (commission.promoter, commission.tier, commission.amount) == (promoter, 1, 2000)
    assert ledger.balances_of(promoter=promoter)["frozen"] == 2000
    assert not ReferralBinding.objects.exists()  # the leader's code pays commission; it binds no one


def test_refund_takes_the_leader_commission_back(shop, owner, leader, buyer, tea, django_capture_on_commit_callbacks):
    promoter, group = leader
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=buyer, code=group.code)
        order = buy(shop, buyer, tea, quantity=2)
    w = World(shop=shop, owner=owner, promoter=promoter, buyer=buyer, address=None, tea=tea)
    with django_capture_on_commit_callbacks(execute=True):
        refund_line(w, order, 2)
    commission = Commission.objects.get()
    assert (commission.status, commission.amount) == (Commission.Status.CANCELLED, 0)
    assert ledger.balances_of(promoter=promoter) == {"frozen": 0, "available": 0, "paid_out": 0}


def test_nothing_is_earned_for_members_joining(shop, owner, leader, django_capture_on_commit_callbacks):
    promoter, group = leader
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            group_join(shop=shop, shopper=make_shopper(), code=group.code)
        newcomer = customer_for_shopper(shop=shop, shopper=make_shopper())
        group_member_add(actor=owner, shop=shop, group_id=group.public_id, customer=newcomer.public_id)
    assert group.members.count() == 4
    assert not Commission.objects.exists() and not LedgerEntry.objects.exists()
    assert not ReferralReward.objects.exists()


def test_an_order_with_a_sharers_code_pays_that_sharer_only(
    shop, owner, leader, buyer, tea, django_capture_on_commit_callbacks
):
    promoter, group = leader
    sharer = approved_promoter(shop, owner)
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=buyer, code=group.code)
        order = buy(shop, buyer, tea, ref_code=sharer.shopper.share_code)
    assert order.ref_code == sharer.shopper.share_code
    assert GroupOrder.objects.get(order=order).leader_promoter is None
    assert list(Commission.objects.values_list("promoter", flat=True)) == [sharer.pk]


def test_two_tier_shop_still_pays_one_commission_per_tier_and_the_leader_only_once(
    shop, owner, buyer, tea, django_capture_on_commit_callbacks
):
    """In a shop running two tiers the leader's own parent gets the second tier, as for any
    promoter; the order still has one earner per tier (never the leader twice)."""
    DistributionSettings.objects.update_or_create(shop=shop, defaults={"tiers": 2, "second_tier_rate_bp": 300})
    parent = approved_promoter(shop, owner)
    promoter = approved_promoter(shop, owner, parent=parent)
    customer = customer_for_shopper(shop=shop, shopper=promoter.shopper)
    group = new_group(shop, owner, leader_customer=customer.public_id, reward_leader=True)
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=buyer, code=group.code)
        buy(shop, buyer, tea)
    rows = sorted(Commission.objects.values_list("promoter", "tier", "amount"))
    assert rows == sorted([(promoter.pk, 1, 1000), (parent.pk, 2, 300)])


def test_the_leaders_own_orders_earn_nothing(shop, leader, tea, django_capture_on_commit_callbacks):
    promoter, group = leader
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=promoter.shopper, code=group.code)
        order = buy(shop, promoter.shopper, tea)
    assert order.ref_code == ""
    assert GroupOrder.objects.get(order=order).leader_promoter is None
    assert not Commission.objects.exists()


def test_a_suspended_leader_earns_nothing(shop, owner, leader, buyer, tea, django_capture_on_commit_callbacks):
    promoter, group = leader
    promoter_suspend(actor=owner, promoter=promoter)
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=buyer, code=group.code)
        order = buy(shop, buyer, tea)
    assert order.ref_code == "" and not Commission.objects.exists()
    assert GroupOrder.objects.filter(order=order, group=group).exists()


def test_rewarding_needs_a_customer_leader_who_is_an_approved_promoter(shop, owner, buyer):
    plain = customer_for_shopper(shop=shop, shopper=buyer)
    with pytest.raises(Conflict) as refused:
        new_group(shop, owner, leader_customer=plain.public_id, reward_leader=True)
    assert refused.value.code == "leader_not_promoter"
    with pytest.raises(Conflict):
        new_group(shop, owner, leader_staff=owner.pk, reward_leader=True)


def test_unrewarding_stops_new_commissions(shop, owner, leader, buyer, tea, django_capture_on_commit_callbacks):
    promoter, group = leader
    group_update(actor=owner, shop=shop, group_id=group.public_id, data={"reward_leader": False})
    with django_capture_on_commit_callbacks(execute=True):
        group_join(shop=shop, shopper=buyer, code=group.code)
        buy(shop, buyer, tea)
    assert not Commission.objects.exists()
