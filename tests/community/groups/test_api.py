"""API operations for groups: console CRUD, members and figures; storefront join, leave and mine."""

import pytest

from siyu.accounts.services import token_issue
from siyu.community.groups.models import Group, GroupMember
from siyu.customers.stats import customer_for_shopper
from tests.factories import make_staff

from .test_pages import populate

pytestmark = pytest.mark.django_db

SF, CON = "/api/v1/storefront", "/api/v1/console"


@pytest.fixture
def staff_auth(shop, owner):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, staff=owner, name='t')[1]}"}


@pytest.fixture
def buyer_auth(shop, buyer):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=shop, shopper=buyer, name='t')[1]}"}


def test_console_create_update_and_members(client, shop, buyer, staff_auth):
    made = client.post(
        f"{CON}/groups",
        {"name": "杭州宝妈群", "kind": "wecom", "tags": ["宝妈"], "notes": "每周三"},
        content_type="application/json",
        **staff_auth,
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["kind"], body["tags"], body["figures"]["members"], len(body["weekly"])) == ("wecom", ["宝妈"], 0, 8)
    gid = body["id"]
    changed = client.put(f"{CON}/groups/{gid}", {"name": "新名字"}, content_type="application/json", **staff_auth)
    assert changed.status_code == 200 and changed.json()["name"] == "新名字" and changed.json()["kind"] == "wecom"
    customer = customer_for_shopper(shop=shop, shopper=buyer)
    refused = client.put(
        f"{CON}/groups/{gid}",
        {"leader_customer": customer.public_id, "reward_leader": True},
        content_type="application/json",
        **staff_auth,
    )
    assert refused.status_code == 409 and refused.json()["code"] == "leader_not_promoter"
    add = client.post(
        f"{CON}/groups/{gid}/members", {"customer": customer.public_id}, content_type="application/json", **staff_auth
    )
    assert add.status_code == 201 and add.json()["source"] == "staff"
    again = client.post(
        f"{CON}/groups/{gid}/members", {"customer": customer.public_id}, content_type="application/json", **staff_auth
    )
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    members = client.get(f"{CON}/groups/{gid}/members", **staff_auth).json()
    assert members["count"] == 1 and members["items"][0]["customer"] == customer.public_id
    assert client.delete(f"{CON}/groups/{gid}/members/{customer.public_id}", **staff_auth).status_code == 204
    assert client.delete(f"{CON}/groups/{gid}/members/{customer.public_id}", **staff_auth).status_code == 404
    assert not GroupMember.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 41},
        {"name": "群", "kind": "qq"},
        {"name": "群", "tags": ["t"] * 11},
        {"name": "群", "leader_staff": True},
        {"name": "群", "unknown": 1},
        {"name": "群", "leader_customer": "nobody"},
    ],
)
def test_console_bad_input_is_a_4xx_with_a_body(client, staff_auth, payload):
    answer = client.post(f"{CON}/groups", payload, content_type="application/json", **staff_auth)
    assert answer.status_code in (400, 404, 422) and "code" in answer.json()
    assert not Group.objects.exists()


@pytest.mark.parametrize("n", [2, 6])
def test_console_list_and_detail_have_fixed_queries(client, shop, owner, tea, staff_auth, n, django_assert_num_queries):
    groups = populate(shop, owner, tea, groups=n, members=2)
    with django_assert_num_queries(5):  # token (+ its last-used update), groups, members, orders
        listing = client.get(f"{CON}/groups?sort=members&limit=50", **staff_auth)
    assert listing.status_code == 200 and listing.json()["count"] == n
    assert listing.json()["items"][0]["figures"]["orders"] == 2
    with django_assert_num_queries(5):  # token (+ update), group, count, page
        client.get(f"{CON}/groups/{groups[0].public_id}/members", **staff_auth)
    detail = client.get(f"{CON}/groups/{groups[0].public_id}", **staff_auth).json()
    assert detail["figures"]["revenue"] == 20000 and detail["best_products"][0]["quantity"] == 2


def test_console_other_shop_and_roles(client, shop, other_shop, group):
    theirs = make_staff(other_shop, username="boss2")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(shop=other_shop, staff=theirs, name='t')[1]}"}
    # their token on our host still answers for their own shop only
    assert client.get(f"{CON}/groups/{group.public_id}", **auth).status_code in (401, 403, 404)


def test_storefront_join_leave_and_mine(client, shop, group, buyer_auth):
    joined = client.post(f"{SF}/groups/{group.code}/join", **buyer_auth)
    assert joined.status_code == 200 and joined.json() == {"group": group.name, "code": group.code, "created": True}
    assert client.post(f"{SF}/groups/{group.code}/join", **buyer_auth).json()["created"] is False
    mine = client.get(f"{SF}/groups/mine", **buyer_auth).json()
    assert mine == {"led": [], "joined": [{"code": group.code, "name": group.name, "kind": group.kind}]}
    assert client.post(f"{SF}/groups/{group.code}/leave", **buyer_auth).json() == {"left": True}
    assert client.post(f"{SF}/groups/zzzzzzzz/join", **buyer_auth).status_code == 404
    assert client.post(f"{SF}/groups/{group.code}/join").status_code == 401
