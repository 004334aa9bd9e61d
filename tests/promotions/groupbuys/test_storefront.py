"""Storefront: the group page, its poster, the product panel, my groups; query counts at two sizes."""

import pytest

from siyu.promotions.groupbuys.groups import group_close
from siyu.promotions.groupbuys.models import Group

from ...factories import make_product, make_shopper, sign_in_shopper
from ...orders.helpers import pay
from .conftest import buy, make_campaign


def _group(shop, campaign, n_members):
    leader = buy(shop, make_shopper(), campaign)
    pay(leader)
    group = Group.objects.get(members__order=leader)
    for _ in range(n_members - 1):
        pay(buy(shop, make_shopper(), campaign, group))
    return group


@pytest.mark.parametrize("members", [1, 4])
def test_group_page_shows_members_and_join_with_fixed_queries(client, shop, owner, members, django_assert_num_queries):
    campaign = make_campaign(shop, owner, size=6)
    group = _group(shop, campaign, members)
    url = f"/groups/{group.public_id}/"
    client.get(url)
    with django_assert_num_queries(5):  # shop, group, prices, their SKUs, members
        page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="group-join"' in html
    assert f"promotion=group_buy:{campaign.public_id}:{group.public_id}" in html
    assert html.count('class="avatar"') + html.count('class="avatar virtual"') == members
    assert html.count("avatar empty") == 6 - members
    assert "¥29.90" in html and "¥50.00" in html


def test_virtual_members_are_shown_as_such(client, shop, owner):
    campaign = make_campaign(shop, owner, size=3, auto_fill=True)
    group = _group(shop, campaign, 1)
    group_close(group_id=group.pk, now=group.deadline)
    html = client.get(f"/groups/{group.public_id}/").content.decode()
    assert html.count("avatar virtual") == 2 and 'data-status="formed"' in html and "group-join" not in html


def test_poster_carries_the_sharers_code_and_bad_codes_are_404(client, shop, campaign, shopper):
    group = _group(shop, campaign, 1)
    answer = client.get(f"/groups/{group.public_id}/poster.png?ref={shopper.share_code}")
    assert answer.status_code == 200 and answer["Content-Type"] == "image/png" and answer.content[:4] == b"\x89PNG"
    assert client.get(f"/groups/{group.public_id}/poster.png?ref=<x>").status_code == 404
    assert client.get("/groups/nosuchgroup/").status_code == 404


@pytest.mark.parametrize("groups", [1, 3])
def test_product_panel_lists_open_groups(client, shop, owner, groups, django_assert_num_queries):
    campaign = make_campaign(shop, owner, size=5)
    for _ in range(groups):
        _group(shop, campaign, 2)
    url = f"/p/{campaign.product.public_id}/"
    html = client.get(url).content.decode()
    assert 'id="group-panel"' in html and html.count('class="open-group"') == groups
    assert f"promotion=group_buy:{campaign.public_id}" in html


def test_a_product_without_a_campaign_costs_the_panel_nothing(client, shop, django_assert_num_queries):
    product = make_product(shop)
    client.get(f"/p/{product.public_id}/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as seen:
        client.get(f"/p/{product.public_id}/")
    assert not any("groupbuys_" in q["sql"] for q in seen.captured_queries)


def test_my_groups_page(client, shop, campaign):
    leader = make_shopper()
    order = buy(shop, leader, campaign)
    pay(order)
    sign_in_shopper(client, leader)
    html = client.get("/me/groups/").content.decode()
    assert campaign.name in html and order.number in html
