"""The bargain API: storefront start/detail/help/mine, console campaigns, bargains and results."""

import pytest
from django.utils import timezone

from siyu.accounts.services import token_issue
from siyu.promotions.bargains.models import Bargain

from ...api.conftest import API, bearer
from ...distribution.promoter_steps import address_for
from ...factories import make_shopper
from ...orders.helpers import pay
from .test_services import buy, help_all, started


@pytest.fixture
def owner_key(shop, owner):
    return token_issue(shop=shop, staff=owner, name="t")[1]


def key_of(shop, shopper):
    return bearer(token_issue(shop=shop, shopper=shopper, name="t")[1])


def test_storefront_start_detail_help_and_mine(client, shop, campaign, friends):
    starter = make_shopper()
    me = key_of(shop, starter)
    made = client.post(
        f"{API}/storefront/bargains", {"campaign": campaign.public_id}, content_type="application/json", headers=me
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["current_price"], body["floor_price"], body["helps_needed"], body["mine"]) == (5000, 1000, 5, True)
    assert body["checkout_promotion"] == f"bargain:{body['id']}" and not body["buyable"]
    again = client.post(
        f"{API}/storefront/bargains", {"campaign": campaign.public_id}, content_type="application/json", headers=me
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    own = client.post(f"{API}/storefront/bargains/{body['id']}/help", headers=me)
    assert own.status_code == 409 and own.json()["code"] == "bargain_own"
    cuts = []
    for friend in friends[:5]:
        answer = client.post(f"{API}/storefront/bargains/{body['id']}/help", headers=key_of(shop, friend))
        assert answer.status_code == 201, answer.content
        cuts.append(answer.json()["cut"])
    assert sum(cuts) == 4000
    late = client.post(f"{API}/storefront/bargains/{body['id']}/help", headers=key_of(shop, friends[5]))
    assert late.status_code == 409 and late.json()["code"] == "bargain_done"
    seen = client.get(f"{API}/storefront/bargains/{body['id']}", headers=me).json()
    assert seen["current_price"] == 1000 and seen["buyable"] and [h["cut"] for h in seen["helps"]] == cuts
    as_friend = client.get(f"{API}/storefront/bargains/{body['id']}", headers=key_of(shop, friends[0])).json()
    assert not as_friend["mine"] and not as_friend["buyable"]
    mine = client.get(f"{API}/storefront/bargains", headers=me).json()
    assert [b["id"] for b in mine] == [body["id"]]
    assert client.get(f"{API}/storefront/bargains/nope", headers=me).status_code == 404
    assert (
        client.post(
            f"{API}/storefront/bargains", {"campaign": "nope"}, content_type="application/json", headers=me
        ).status_code
        == 404
    )


def test_api_checkout_through_the_bargain(client, shop, campaign, friends):
    b = started(shop, campaign)
    help_all(shop, b, friends[:5])
    address = address_for(shop, b.starter)
    answer = client.post(
        f"{API}/storefront/orders",
        {
            "items": [{"sku": campaign.sku_id, "quantity": 1}],
            "address_id": address.public_id,
            "promotion": f"bargain:{b.public_id}",
        },
        content_type="application/json",
        headers={**key_of(shop, b.starter), "Idempotency-Key": "api-bargain-1"},
    )
    assert answer.status_code == 201, answer.content
    assert answer.json()["subtotal_fen"] == 1000
    assert Bargain.objects.get(pk=b.pk).status == "ordered"


def test_console_campaign_crud_bargains_and_results(
    client, shop, owner_key, sku, friends, django_capture_on_commit_callbacks
):
    staff = bearer(owner_key)
    data = {
        "name": "双十一砍价",
        "sku_id": sku.pk,
        "floor_price": 1000,
        "helps_needed": 3,
        "hours": 24,
        "starts_at": timezone.now().isoformat(),
        "days": 7,
        "stock_cap": 5,
    }
    made = client.post(f"{API}/console/bargains/campaigns", data, content_type="application/json", headers=staff)
    assert made.status_code == 201, made.content
    pid = made.json()["campaign"]["id"]
    assert made.json()["results"]["orders_placed"] == 0
    too_high = client.post(
        f"{API}/console/bargains/campaigns",
        {**data, "floor_price": 4999},
        content_type="application/json",
        headers=staff,
    )
    assert too_high.status_code == 409 and too_high.json()["code"] == "bargain_floor_too_high"
    patched = client.patch(
        f"{API}/console/bargains/campaigns/{pid}", {"stock_cap": 8}, content_type="application/json", headers=staff
    )
    assert patched.status_code == 200 and patched.json()["campaign"]["stock_cap"] == 8
    from siyu.promotions.bargains.models import BargainCampaign

    campaign = BargainCampaign.objects.get(public_id=pid)
    b = started(shop, campaign)
    help_all(shop, b, friends[:3])
    with django_capture_on_commit_callbacks(execute=True):
        pay(buy(shop, b, address_for(shop, b.starter)))
    listing = client.get(f"{API}/console/bargains/campaigns", headers=staff).json()
    assert listing["count"] == 1 and listing["items"][0]["started"] == 1 and listing["items"][0]["reached"] == 1
    bargains = client.get(f"{API}/console/bargains/campaigns/{pid}/bargains", headers=staff).json()
    assert bargains["items"][0]["status"] == "bought" and bargains["items"][0]["order"]
    detail = client.get(f"{API}/console/bargains/campaigns/{pid}", headers=staff).json()
    assert detail["results"]["orders_paid"] == 1 and detail["results"]["discount"] == 4000
    assert detail["results"]["new_customers"] == 1
    ended = client.post(f"{API}/console/bargains/campaigns/{pid}/end", headers=staff)
    assert ended.json()["campaign"]["status"] == "ended"


def test_console_is_per_shop(client, shop, other_shop, campaign):
    from ...factories import make_staff

    other = make_staff(other_shop, username="otherboss")
    other_key = bearer(token_issue(shop=other_shop, staff=other, name="t")[1])
    answer = client.get(f"/s/other{API}/console/bargains/campaigns/{campaign.public_id}", headers=other_key)
    assert answer.status_code == 404


@pytest.mark.parametrize("n", [5, 30])
def test_list_query_counts(client, shop, owner_key, campaign, n, django_assert_num_queries):
    bargains = [started(shop, campaign) for _ in range(n)]
    staff = bearer(owner_key)
    with django_assert_num_queries(1 + 1 + 2):  # shop, token, count + page
        assert client.get(f"{API}/console/bargains/campaigns", headers=staff).status_code == 200
    with django_assert_num_queries(1 + 1 + 1 + 2):  # shop, token, campaign, count + page
        answer = client.get(f"{API}/console/bargains/campaigns/{campaign.public_id}/bargains?limit=100", headers=staff)
    assert answer.json()["count"] == n
    me = key_of(shop, bargains[0].starter)
    with django_assert_num_queries(1 + 1 + 1):  # shop, token, bargains with campaign, SKU, product
        assert len(client.get(f"{API}/storefront/bargains", headers=me).json()) == 1
