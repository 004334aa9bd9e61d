"""Console and storefront pages for groups: what they show, what they refuse, and fixed query
counts at two sizes."""

import pytest
from django.urls import reverse

from siyu.community.groups.models import Group, GroupMember
from siyu.community.groups.services import group_join
from siyu.customers.stats import customer_for_shopper
from siyu.storefront.panels_groups import my_links
from tests.factories import make_shopper, make_staff, sign_in_shopper
from tests.promotion_flags import promotion_flags_warm

from .conftest import buy, new_group

pytestmark = pytest.mark.django_db


def populate(shop, owner, tea, *, groups: int, members: int) -> list[Group]:
    """`groups` groups, each with `members` members who each placed a paid order through it."""
    made = []
    for i in range(groups):
        group = new_group(shop, owner, name=f"群{i}", tags=["宝妈", "杭州"])
        for _ in range(members):
            shopper = make_shopper()
            group_join(shop=shop, shopper=shopper, code=group.code)
            buy(shop, shopper, tea)
        made.append(group)
    return made


@pytest.mark.parametrize("n", [2, 6])
def test_console_list_is_a_leaderboard_with_fixed_queries(staff_client, shop, owner, tea, n, django_assert_num_queries):
    groups = populate(shop, owner, tea, groups=n, members=n)
    url = reverse("console:groups")
    staff_client.get(url)
    with django_assert_num_queries(6):  # shop, user, staff, groups, members, orders: whatever the number of groups
        page = staff_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and all(g.name in body for g in groups)
    assert staff_client.get(url, {"kind": "nope", "sort": "nope", "page": "x"}).status_code == 200


@pytest.mark.parametrize("n", [2, 8])
def test_console_detail_with_fixed_queries(staff_client, shop, owner, tea, n, django_assert_num_queries):
    (group,) = populate(shop, owner, tea, groups=1, members=n)
    url = reverse("console:group_detail", args=[group.public_id])
    staff_client.get(url)
    with django_assert_num_queries(
        12
    ):  # shop, user, staff, group, figures (2), visits, sign-ups, weeks, products, members (2)
        page = staff_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200 and "member-table" in body and "龙井" in body
    assert f"/g/{group.code}/" in body


def test_console_create_edit_and_members(staff_client, shop, buyer):
    answer = staff_client.post(
        reverse("console:group_new"),
        {"name": "社区团购一群", "kind": "offline", "tags": "宝妈, 杭州", "notes": "周三团", "is_active": "on"},
    )
    group = Group.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("console:group_detail", args=[group.public_id])
    assert (group.kind, group.tags, group.notes, len(group.code)) == ("offline", ["宝妈", "杭州"], "周三团", 8)
    edit = reverse("console:group_edit", args=[group.public_id])
    assert staff_client.get(edit).status_code == 200
    customer = customer_for_shopper(shop=shop, shopper=buyer)
    refused = staff_client.post(
        edit,
        {
            "name": "新名",
            "kind": "wechat",
            "leader_customer": customer.public_id,
            "reward_leader": "on",
            "is_active": "on",
        },
    )
    assert refused.status_code == 409  # the leader is no promoter
    assert staff_client.post(edit, {"name": "", "kind": "wechat"}).status_code == 400
    typo = staff_client.post(edit, {"name": "新名", "kind": "wechat", "leader_customer": "nobody"})
    assert typo.status_code == 400 and "group-form" in typo.content.decode()
    staff_client.post(
        edit, {"name": "新名", "kind": "wechat", "leader_customer": customer.public_id, "is_active": "on"}
    )
    group.refresh_from_db()
    assert (group.name, group.leader_customer) == ("新名", customer)
    add = reverse("console:group_member_add", args=[group.public_id])
    assert staff_client.post(add, {"customer": buyer.phone}).status_code == 302
    assert GroupMember.objects.get().customer == customer
    staff_client.post(reverse("console:group_member_remove", args=[group.public_id]), {"customer": customer.public_id})
    assert not GroupMember.objects.exists()


def test_console_pages_refuse_roles_without_customer_rights(client, shop, owner, group):
    from siyu.accounts.roles import FINANCE

    finance = make_staff(shop, role=FINANCE, username="cashier")
    client.force_login(finance.user)
    assert client.get(reverse("console:groups")).status_code == 200  # customers.view
    assert client.get(reverse("console:group_new")).status_code == 403
    assert (
        client.post(reverse("console:group_member_add", args=[group.public_id]), {"customer": "x"}).status_code == 403
    )


@pytest.mark.parametrize("n", [1, 4])
def test_leader_sees_their_groups_figures(client, shop, owner, tea, n, django_assert_num_queries):
    leader = make_shopper()
    customer = customer_for_shopper(shop=shop, shopper=leader)
    groups = populate(shop, owner, tea, groups=n, members=2)
    Group.objects.update(leader_customer=customer)
    sign_in_shopper(client, leader)
    url = reverse("storefront:my_groups")
    promotion_flags_warm(shop.pk)
    client.get(url)
    with django_assert_num_queries(6):  # shop, shopper, led groups, members, orders, joined groups
        page = client.get(url)
    body = page.content.decode()
    assert "groups-led" in body and all(g.name in body for g in groups)
    assert "¥200.00" in body  # two members' orders of 100.00 each


def test_join_page_and_poster(client, group):
    page = client.get(reverse("storefront:group_join", args=[group.code]))
    assert page.status_code == 200 and group.name in page.content.decode()
    poster = client.get(reverse("storefront:group_poster", args=[group.code]))
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png" and poster.content[:4] == b"\x89PNG"
    assert client.get(reverse("storefront:group_poster", args=["zzzzzzzz"])).status_code == 404


def test_my_link_costs_no_query_without_groups(rf, shop, django_assert_num_queries):
    request = rf.get("/")
    request.shop = shop
    promotion_flags_warm(shop.pk)
    with django_assert_num_queries(0):
        assert my_links(request) == []


def test_my_link_shows_in_a_shop_with_groups(rf, shop, owner):
    new_group(shop, owner)
    request = rf.get("/")
    request.shop = shop
    assert [url for _label, url in my_links(request)] == [reverse("storefront:my_groups")]
