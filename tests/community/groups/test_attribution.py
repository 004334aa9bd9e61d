"""Attribution to groups: visits, sign-ups and orders through a group's code, and what it must not
touch (a customer's first-touch referrer, another shop, an expired touch)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.community.groups.attribution import WINDOW_DAYS, group_order_attribute
from siyu.community.groups.models import GroupOrder, GroupTouch, GroupVisit
from siyu.referrals.models import ReferralBinding
from tests.factories import make_shopper, sign_in_shopper
from tests.promotion_flags import promotion_flags_warm

from .conftest import buy, new_group

pytestmark = pytest.mark.django_db


def test_anonymous_visit_then_sign_in_touches_and_counts_a_signup(client, shop, group, buyer, tea):
    client.get(f"/?g={group.code}")
    client.get(f"/c/?g={group.code}")
    assert GroupVisit.objects.filter(group=group, shopper__isnull=True).count() == 2
    assert not GroupTouch.objects.exists()
    sign_in_shopper(client, buyer)
    client.get("/")  # the first signed-in request binds the waiting touch
    touch = GroupTouch.objects.get(shopper=buyer)
    assert (touch.group, touch.signup_group) == (group, group)
    order = buy(shop, buyer, tea)
    assert GroupOrder.objects.get(order=order).group == group


def test_join_page_visit_of_a_signed_in_shopper_touches_at_once(client, shop, group, buyer, tea):
    sign_in_shopper(client, buyer)
    assert client.get(f"/g/{group.code}/").status_code == 200
    assert GroupVisit.objects.filter(group=group).count() == 1
    assert GroupTouch.objects.get(shopper=buyer).group == group
    order = buy(shop, buyer, tea)
    attributed = GroupOrder.objects.get(order=order)
    assert (attributed.group, attributed.shopper, attributed.leader_promoter) == (group, buyer, None)
    order.refresh_from_db()
    assert order.ref_code == ""  # the group has no rewarded leader: no code is written


def test_a_customer_who_already_bought_is_no_signup(client, shop, group, buyer, tea):
    buy(shop, buyer, tea)
    sign_in_shopper(client, buyer)
    client.get(f"/?g={group.code}")
    assert GroupTouch.objects.get(shopper=buyer).signup_group is None


def test_last_group_link_wins_for_orders_but_the_signup_stays_with_the_first(client, shop, owner, buyer, tea):
    first, second = new_group(shop, owner, name="一群"), new_group(shop, owner, name="二群")
    sign_in_shopper(client, buyer)
    client.get(f"/?g={first.code}")
    client.get(f"/?g={second.code}")
    touch = GroupTouch.objects.get(shopper=buyer)
    assert (touch.group, touch.signup_group) == (second, first)
    assert GroupOrder.objects.get(order=buy(shop, buyer, tea)).group == second


def test_first_touch_referrer_is_not_overwritten(client, shop, owner, leader, buyer, tea):
    """A friend's ?ref= came first: the group link changes neither the session's ref nor the
    binding, the order keeps the friend's code, and the group still gets the order (the leader no
    commission for it: see test_commissions)."""
    _promoter, group = leader
    friend = make_shopper()
    client.get(f"/?ref={friend.share_code}")
    client.get(f"/?g={group.code}")
    assert client.session["ref"] == friend.share_code
    sign_in_shopper(client, buyer)
    client.get("/")
    binding = ReferralBinding.objects.get(referee=buyer)
    assert (binding.referrer_shopper, binding.code) == (friend, friend.share_code)
    assert client.session["ref"] == friend.share_code
    order = buy(shop, buyer, tea, ref_code=client.session["ref"])
    assert order.ref_code == friend.share_code
    attributed = GroupOrder.objects.get(order=order)
    assert (attributed.group, attributed.leader_promoter) == (group, None)
    # and a group link first does not take the referral's place either
    other = make_shopper()
    client2 = client.__class__()
    client2.get(f"/?g={group.code}")
    client2.get(f"/?ref={friend.share_code}")
    sign_in_shopper(client2, other)
    client2.get("/")
    assert ReferralBinding.objects.get(referee=other).referrer_shopper == friend


def test_an_expired_touch_attributes_nothing(client, shop, group, buyer, tea):
    sign_in_shopper(client, buyer)
    client.get(f"/?g={group.code}")
    GroupTouch.objects.update(touched_at=timezone.now() - timedelta(days=WINDOW_DAYS, minutes=1))
    buy(shop, buyer, tea)
    assert not GroupOrder.objects.exists()


def test_unknown_inactive_and_other_shop_codes_are_ignored(client, shop, other_shop, owner, buyer):
    from tests.factories import make_staff

    theirs = new_group(other_shop, make_staff(other_shop, username="boss2"), name="隔壁群")
    closed = new_group(shop, owner, name="已解散", is_active=False)
    sign_in_shopper(client, buyer)
    for code in (theirs.code, closed.code, "zzzzzzzz", "bad!code"):
        client.get(f"/?g={code}")
        assert client.get(f"/g/{code}/").status_code == 404
    assert not GroupVisit.objects.exists() and not GroupTouch.objects.exists()


def test_no_query_for_a_shop_without_groups(shop, buyer, django_assert_num_queries):
    promotion_flags_warm(shop.pk)
    with django_assert_num_queries(0):
        assert group_order_attribute(shop_id=shop.pk, order_id=1, shopper_id=buyer.pk) is None


def test_storefront_request_with_a_group_code_costs_nothing_extra_without_groups(client, shop):
    promotion_flags_warm(shop.pk)
    client.get("/")
    with CaptureQueriesContext(connection) as plain:
        client.get("/")
    with CaptureQueriesContext(connection) as coded:
        client.get("/?g=abcdefgh")
    assert len(coded) == len(plain)
    assert not GroupVisit.objects.exists()


def test_consent_withdrawn_means_no_touch(client, shop, group, buyer):
    from siyu.customers.models import Customer, CustomerEvent
    from siyu.customers.stats import customer_for_shopper

    customer = customer_for_shopper(shop=shop, shopper=buyer)
    CustomerEvent.objects.create(shop=shop, customer=customer, kind="consent", data={"profiling": False})
    Customer.objects.filter(pk=customer.pk).update(profiling_consent_at=None)
    sign_in_shopper(client, buyer)
    client.get(f"/?g={group.code}")
    assert GroupVisit.objects.get().shopper is None
    assert not GroupTouch.objects.exists()
