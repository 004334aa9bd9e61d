"""Console pages for group buys: list with groups and results, create/edit form, stop, the
campaign's groups (virtual members marked); query counts at two sizes; who may manage."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.roles import FINANCE, OPERATOR, SERVICE
from siyu.promotions.groupbuys.groups import group_close
from siyu.promotions.groupbuys.models import Group, GroupBuy, GroupStatus

from ...factories import make_product, make_shopper, make_staff
from ...orders.helpers import pay
from .conftest import buy, make_campaign

G = GroupStatus


@pytest.fixture(autouse=True)
def _english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the words asserted below, whatever the catalogues say


def _group(shop, campaign, paid: int, *, unpaid: int = 0) -> Group:
    leader = buy(shop, make_shopper(), campaign)
    pay(leader)
    group = Group.objects.get(members__order=leader)
    for _ in range(paid - 1):
        pay(buy(shop, make_shopper(), campaign, group))
    for _ in range(unpaid):
        buy(shop, make_shopper(), campaign, group)
    return group


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def _form(product, **extra) -> dict:
    now = timezone.now()
    data = {
        "name": "蜜桃两人团",
        "group_size": 2,
        "hours": 24,
        "starts_at": _when(now - timedelta(hours=1)),
        "ends_at": _when(now + timedelta(days=3)),
        "per_customer_limit": 1,
        f"price_{product.skus.get().pk}": "29.90",
    }
    return {**data, **extra}


@pytest.mark.parametrize("n", [2, 6])
def test_list_shows_status_group_counts_and_results_with_fixed_queries(
    client, shop, owner, n, django_assert_num_queries
):
    campaigns = [make_campaign(shop, owner, size=3) for _ in range(n)]
    first = campaigns[0]
    _group(shop, first, 3)  # formed
    _group(shop, first, 1)  # open
    failing = _group(shop, first, 1)
    group_close(group_id=failing.pk, now=failing.deadline + timedelta(seconds=1))
    GroupBuy.objects.filter(pk=campaigns[-1].pk).update(is_active=False)
    client.force_login(owner.user)
    client.get("/console/group-buys/")
    # session, user, staff, count, page (prices' lowest and the groups counted in it), results
    with django_assert_num_queries(6):
        resp = client.get("/console/group-buys/")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count('href="/console/group-buys/') == n + 2  # + "new", + the side menu
    assert "1 / 1 / 1" in html  # open / formed / failed of the first campaign
    assert "5 / 5" in html  # paid / placed (the failed group's order counts as paid, then refunded)
    assert "¥119.60" in html  # revenue: four paid orders at ¥29.90, the refunded one kept nothing
    assert "Stopped" in html
    ended = client.get("/console/group-buys/?status=ended").content.decode()
    assert ended.count('href="/console/group-buys/') == 3  # the stopped campaign, "new" and the side menu


@pytest.mark.parametrize("n", [2, 6])
def test_detail_shows_groups_members_and_results_with_fixed_queries(client, shop, owner, n, django_assert_num_queries):
    campaign = make_campaign(shop, owner, size=3, auto_fill=True)
    for _ in range(n - 1):
        _group(shop, campaign, 2, unpaid=1)
    short = _group(shop, campaign, 1)
    assert group_close(group_id=short.pk, now=short.deadline + timedelta(seconds=1)) == "formed"
    client.force_login(owner.user)
    url = f"/console/group-buys/{campaign.public_id}/"
    client.get(url)
    # shop, user, staff, campaign, its prices, their SKUs, count, results, page, members with orders
    with django_assert_num_queries(10):
        resp = client.get(url)
    html = resp.content.decode()
    assert resp.status_code == 200
    assert html.count("group-id") == n
    assert html.count("member-virtual") == 2 and html.count("Virtual member") == 2  # the auto-filled two, marked
    assert html.count('class="member-order"') == 2 * (n - 1) + 1 + (n - 1)  # paid and unpaid orders
    assert "¥29.90" in html and "¥50.00" in html
    formed = client.get(f"{url}?status=formed").content.decode()
    assert short.public_id in formed and formed.count("group-id") == 1


def test_create_edit_and_stop_through_the_form(client, shop, owner):
    product = make_product(shop, name="丑橘", price=5000, stock=50)
    client.force_login(owner.user)
    picker = client.get("/console/group-buys/new/").content.decode()
    assert product.public_id in picker and "丑橘" in picker
    url = f"/console/group-buys/new/?product={product.public_id}"
    form = client.get(url).content.decode()
    assert f'name="price_{product.skus.get().pk}"' in form and "show them as virtual members" in form
    resp = client.post(url, _form(product, auto_fill="on"))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    campaign = GroupBuy.objects.get()
    assert resp["Location"] == f"/console/group-buys/{campaign.public_id}/"
    assert campaign.auto_fill and campaign.prices.get().group_price == 2990 and campaign.group_size == 2
    edit = f"/console/group-buys/{campaign.public_id}/edit/"
    assert 'value="29.90"' in client.get(edit).content.decode()
    resp = client.post(
        edit, _form(product, name="丑橘三人团", group_size=3, **{f"price_{product.skus.get().pk}": "25"})
    )
    assert resp.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.group_size, campaign.auto_fill) == ("丑橘三人团", 3, False)
    assert campaign.prices.get().group_price == 2500
    assert client.post(f"/console/group-buys/{campaign.public_id}/stop/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_active is False


def test_the_form_shows_what_the_service_refuses(client, shop, owner):
    product = make_product(shop, name="丑橘", price=5000, stock=50)
    client.force_login(owner.user)
    url = f"/console/group-buys/new/?product={product.public_id}"
    sku = product.skus.get().pk
    dear = client.post(url, _form(product, **{f"price_{sku}": "50"}))  # not below the SKU's ¥50
    assert dear.status_code == 409 and "below the SKU&#x27;s price" in dear.content.decode()
    none = client.post(url, _form(product, **{f"price_{sku}": ""}))
    assert none.status_code == 400
    now = timezone.now()
    backwards = client.post(url, _form(product, ends_at=_when(now - timedelta(days=1))))
    assert backwards.status_code == 409
    assert GroupBuy.objects.count() == 0
    assert client.get("/console/group-buys/new/?product=nosuch").status_code == 404


@pytest.mark.parametrize("role", [SERVICE, FINANCE])
def test_customer_service_and_finance_may_look_but_not_manage(client, shop, owner, role):
    campaign = make_campaign(shop, owner)
    staff = make_staff(shop, role=role, username=f"{role}1")
    client.force_login(staff.user)
    listed = client.get("/console/group-buys/")
    assert listed.status_code == 200 and campaign.name in listed.content.decode()
    assert "/console/group-buys/new/" not in listed.content.decode()
    detail = client.get(f"/console/group-buys/{campaign.public_id}/")
    assert detail.status_code == 200 and "/stop/" not in detail.content.decode()
    assert client.get("/console/group-buys/new/").status_code == 403
    assert client.get(f"/console/group-buys/{campaign.public_id}/edit/").status_code == 403
    product = campaign.product
    assert client.post(f"/console/group-buys/new/?product={product.public_id}", _form(product)).status_code == 403
    assert client.post(f"/console/group-buys/{campaign.public_id}/stop/").status_code == 403
    campaign.refresh_from_db()
    assert campaign.is_active and GroupBuy.objects.count() == 1


def test_an_operator_may_manage(client, shop, owner):
    campaign = make_campaign(shop, owner)
    operator = make_staff(shop, role=OPERATOR, username="op1")
    client.force_login(operator.user)
    assert client.post(f"/console/group-buys/{campaign.public_id}/stop/").status_code == 302
    campaign.refresh_from_db()
    assert campaign.is_active is False


def test_another_shops_staff_cannot_open_a_campaign(client, shop, owner, other_shop):
    campaign = make_campaign(shop, owner)
    other = make_staff(other_shop, username="otherboss")
    client.force_login(other.user)
    assert client.get(f"/s/other/console/group-buys/{campaign.public_id}/").status_code == 404
    assert campaign.name not in client.get("/s/other/console/group-buys/").content.decode()
