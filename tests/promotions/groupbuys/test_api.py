"""The group-buy API: console CRUD, groups and results; storefront campaign, group and my groups."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.roles import SERVICE
from siyu.accounts.services import token_issue
from siyu.core.errors import PermissionDenied
from siyu.promotions.groupbuys.campaigns import groupbuy_create
from siyu.promotions.groupbuys.models import Group

from ...api.conftest import API, bearer
from ...factories import make_product, make_staff
from ...orders.helpers import pay
from .conftest import buy


@pytest.fixture
def owner_key(shop, owner):
    return token_issue(shop=shop, staff=owner, name="t")[1]


@pytest.fixture
def shopper_key(shop, shopper):
    return token_issue(shop=shop, shopper=shopper, name="t")[1]


def _create(client, key, product, **extra):
    now = timezone.now()
    body = {
        "name": "三人团",
        "product_id": product.public_id,
        "prices": [{"sku_id": product.skus.get().pk, "group_price": 2990}],
        "group_size": 3,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=3)).isoformat(),
        **extra,
    }
    return client.post(f"{API}/console/group-buys", body, content_type="application/json", headers=bearer(key))


def test_console_create_update_stop_and_list(client, shop, owner_key):
    product = make_product(shop, price=5000)
    made = _create(client, owner_key, product)
    assert made.status_code == 201, made.content
    campaign = made.json()
    assert campaign["promotion"] == f"group_buy:{campaign['id']}" and campaign["auto_fill"] is False
    url = f"{API}/console/group-buys/{campaign['id']}"
    changed = client.patch(
        url, {"auto_fill": True, "group_size": 5}, content_type="application/json", headers=bearer(owner_key)
    )
    assert changed.status_code == 200 and changed.json()["group_size"] == 5 and changed.json()["auto_fill"]
    assert client.post(f"{url}/stop", headers=bearer(owner_key)).json()["is_active"] is False
    listed = client.get(f"{API}/console/group-buys?status=ended", headers=bearer(owner_key)).json()
    assert [c["id"] for c in listed["items"]] == [campaign["id"]]
    assert client.get(f"{url}/groups", headers=bearer(owner_key)).json()["count"] == 0
    results = client.get(f"{url}/results", headers=bearer(owner_key))
    assert results.status_code == 200 and results.json()["orders_placed"] == 0


def test_console_refuses_bad_input_and_other_roles(client, shop, owner_key):
    """Malformed: 400. Unknown product or SKU: 404. Well-formed values that do not fit together
    (the fuzz gate's rule for schema-valid input): 409 settings_conflict naming the field."""
    product = make_product(shop, price=5000)
    sku_id = product.skus.get().pk
    too_dear = _create(client, owner_key, product, prices=[{"sku_id": sku_id, "group_price": 5000}])
    assert too_dear.status_code == 409 and too_dear.json()["code"] == "settings_conflict"
    assert "prices" in too_dear.json()["detail"]
    twice = _create(client, owner_key, product, prices=[{"sku_id": sku_id, "group_price": 2990}] * 2)
    assert twice.status_code == 409 and twice.json()["detail"] == {"prices": "each SKU once"}
    backwards = _create(client, owner_key, product, ends_at=(timezone.now() - timedelta(days=2)).isoformat())
    assert backwards.status_code == 409 and backwards.json()["detail"] == {"ends_at": "after starts_at"}
    far = _create(client, owner_key, product, starts_at="0001-01-01T00:00:00+08:00")
    assert far.status_code == 409 and "starts_at" in far.json()["detail"]
    other = make_product(shop, name="别的", price=5000)
    stranger = _create(client, owner_key, product, prices=[{"sku_id": other.skus.get().pk, "group_price": 100}])
    assert stranger.status_code == 404
    assert _create(client, owner_key, product, product_id="nosuch").status_code == 404
    assert _create(client, owner_key, product, group_size=1).status_code == 400
    assert _create(client, owner_key, product, prices={str(sku_id): 2990}).status_code == 400  # the old map shape
    service = make_staff(shop, role=SERVICE, username="service1")
    with pytest.raises(PermissionDenied):  # customer service may look, not manage promotions
        groupbuy_create(actor=service, shop=shop, data={"name": "x"})
    assert client.get(f"{API}/console/group-buys/nosuch", headers=bearer(owner_key)).status_code == 404


def test_storefront_campaign_group_and_my_groups(client, shop, campaign, shoppers, shopper_key, shopper):
    order = buy(shop, shoppers[0], campaign)
    pay(order)
    group = Group.objects.get()
    product = campaign.product
    found = client.get(f"{API}/storefront/group-buys/products/{product.public_id}", headers=bearer(shopper_key))
    assert found.status_code == 200, found.content
    body = found.json()
    assert body["lowest_price"] == 2990 and [g["id"] for g in body["joinable"]] == [group.public_id]
    assert body["joinable"][0]["promotion"] == f"group_buy:{campaign.public_id}:{group.public_id}"
    detail = client.get(f"{API}/storefront/group-buys/groups/{group.public_id}", headers=bearer(shopper_key)).json()
    assert detail["missing"] == 2 and detail["members"][0]["is_leader"] and not detail["members"][0]["is_virtual"]
    mine = client.get(f"{API}/storefront/group-buys/mine", headers=bearer(shopper_key)).json()
    assert mine["count"] == 0  # the fixture's shopper has none
    leader_key = token_issue(shop=shop, shopper=shoppers[0], name="l")[1]
    mine = client.get(f"{API}/storefront/group-buys/mine", headers=bearer(leader_key)).json()
    assert mine["items"][0]["group_id"] == group.public_id and mine["items"][0]["status"] == "joined"
    missing = client.get(f"{API}/storefront/group-buys/products/nosuch", headers=bearer(shopper_key))
    assert missing.status_code == 404


def test_another_shops_staff_sees_nothing(client, campaign, other_shop):
    from ...factories import make_staff as staff

    other = staff(other_shop, username="otherboss")
    key = token_issue(shop=other_shop, staff=other, name="o")[1]
    answer = client.get(f"/s/other/api/v1/console/group-buys/{campaign.public_id}", headers=bearer(key))
    assert answer.status_code == 404


@pytest.mark.parametrize("groups", [1, 4])
def test_list_query_counts_do_not_grow(client, shop, owner, owner_key, shopper_key, groups, django_assert_num_queries):
    from .conftest import make_campaign

    campaigns = [make_campaign(shop, owner) for _ in range(groups)]
    for c in campaigns:
        for _ in range(2):
            from ...factories import make_shopper

            pay(buy(shop, make_shopper(), c))
    product = campaigns[0].product
    client.get(f"{API}/console/group-buys", headers=bearer(owner_key))  # warm the token
    with django_assert_num_queries(5):
        assert client.get(f"{API}/console/group-buys", headers=bearer(owner_key)).json()["count"] == groups
    with django_assert_num_queries(7):  # auth, the campaign and its prices, count, page
        client.get(f"{API}/console/group-buys/{campaigns[0].public_id}/groups", headers=bearer(owner_key))
    with django_assert_num_queries(8):  # auth, product, campaign, prices, groups, members
        found = client.get(f"{API}/storefront/group-buys/products/{product.public_id}", headers=bearer(shopper_key))
        assert len(found.json()["joinable"]) == 2
