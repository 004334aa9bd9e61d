"""Storefront API for the shopper's own membership, points, consents, data export and deletion."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from siyu.accounts.models import ApiToken, Shopper
from siyu.accounts.services import token_issue
from siyu.customers.models import Customer, MemberLevel, PointsEntry
from siyu.customers.privacy import consent_set
from siyu.customers.stats import customer_for_shopper
from siyu.orders import lifecycle

from ..factories import make_shopper, sign_in_shopper
from ..orders.helpers import place
from .conftest import API, bearer

ME = f"{API}/storefront/me"
SHOP, TOKEN = 1, 1
OVERVIEW = 3  # customer with its balance, the levels, the points rules
PAGE = 2  # one count, one slice
ENDPOINTS = ["membership", "points", "consents", "export"]


@pytest.fixture
def sf(client, shopper_key):
    """The test client signed in as the shopper by bearer token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {shopper_key}"
    return client


@pytest.fixture
def levels(shop):
    return [
        MemberLevel.objects.create(shop=shop, name="银卡", min_spend=10_000, discount_bp=0, free_shipping=True),
        MemberLevel.objects.create(shop=shop, name="金卡", min_spend=50_000, discount_bp=500, free_shipping=True),
        MemberLevel.objects.create(shop=shop, name="钻石", min_spend=200_000, discount_bp=1000),
    ]


@pytest.fixture
def neighbour(shop):
    """Another shopper of the same shop, with a high level, points and both consents."""
    other = make_shopper("13900001111")
    customer = customer_for_shopper(shop=shop, shopper=other)
    Customer.objects.filter(pk=customer.pk).update(total_spent=999_999)
    PointsEntry.objects.create(shop=shop, customer=customer, delta=4242, reason="adjust")
    consent_set(shop=shop, shopper=other, marketing=True, profiling=True)
    return other


def _spent(shop, shopper, fen: int) -> Customer:
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    Customer.objects.filter(pk=customer.pk).update(total_spent=fen)
    return customer


def _points(shop, customer, n: int) -> None:
    PointsEntry.objects.bulk_create(
        [PointsEntry(shop=shop, customer=customer, delta=10 + i, reason="earn") for i in range(n)]
    )


def _put(client, url, payload, **headers):
    return client.put(url, payload, content_type="application/json", headers=headers)


def _post(client, url, payload, **headers):
    return client.post(url, payload, content_type="application/json", headers=headers)


# --- membership ----------------------------------------------------------------------------


def test_membership_shows_level_benefits_and_the_way_up(
    sf, shop, shopper, levels, neighbour, django_assert_num_queries
):
    customer = _spent(shop, shopper, 60_000)
    _points(shop, customer, 2)
    with django_assert_num_queries(SHOP + TOKEN + OVERVIEW):
        response = sf.get(f"{ME}/membership")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["level"]["name"] == "金卡" and body["level"]["min_spend_fen"] == 50_000
    assert [(b["kind"], b["discount_bp"]) for b in body["benefits"]] == [("discount", 500), ("free_shipping", None)]
    assert [b["label"] for b in body["benefits"]] == ["会员折扣", "包邮"]
    assert body["next_level"]["name"] == "钻石"
    assert body["to_next_level_fen"] == 140_000
    assert body["total_spent_fen"] == 60_000
    assert body["points_balance"] == 21  # never the neighbour's 4242
    assert [lv["name"] for lv in body["levels"]] == ["银卡", "金卡", "钻石"]


def test_membership_at_the_top_and_below_the_first_level(sf, shop, shopper, levels, neighbour):
    customer = _spent(shop, shopper, 500_000)
    top = sf.get(f"{ME}/membership").json()
    assert top["level"]["name"] == "钻石" and top["next_level"] is None and top["to_next_level_fen"] == 0

    Customer.objects.filter(pk=customer.pk).update(total_spent=2_500)
    low = sf.get(f"{ME}/membership").json()
    assert low["level"] is None and low["benefits"] == []
    assert low["next_level"]["name"] == "银卡" and low["to_next_level_fen"] == 7_500


def test_reading_membership_makes_no_customer_record(sf, shop, shopper, levels):
    body = sf.get(f"{ME}/membership").json()
    assert body["level"] is None and body["points_balance"] == 0 and body["total_spent_fen"] == 0
    assert sf.get(f"{ME}/points").json()["items"] == []
    assert sf.get(f"{ME}/consents").json()["marketing"] is False
    assert not Customer.objects.filter(shop=shop).exists()


# --- points --------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 30])
def test_points_history_query_count(sf, shop, shopper, neighbour, n, django_assert_num_queries):
    customer = _spent(shop, shopper, 0)
    _points(shop, customer, n)
    with django_assert_num_queries(SHOP + TOKEN + OVERVIEW + PAGE):
        response = sf.get(f"{ME}/points?limit=20")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == n and len(body["items"]) == min(n, 20)
    assert body["balance"] == sum(10 + i for i in range(n))
    assert body["items"][0]["points"] == 10 + n - 1  # newest first
    assert body["items"][0]["reason"] == "earn"
    assert 4242 not in [item["points"] for item in body["items"]]


def test_points_pages_and_labels(sf, shop, shopper):
    customer = _spent(shop, shopper, 0)
    _points(shop, customer, 7)
    PointsEntry.objects.create(shop=shop, customer=customer, delta=-5, reason="redeem")
    first = sf.get(f"{ME}/points?limit=3", headers={"Accept-Language": "en"}).json()
    assert [i["points"] for i in first["items"]] == [-5, 16, 15]
    assert first["items"][0]["reason"] == "redeem" and first["items"][0]["label"] == "Used at checkout"
    last = sf.get(f"{ME}/points?limit=3&offset=6").json()
    assert [i["points"] for i in last["items"]] == [11, 10] and last["offset"] == 6
    assert first["balance"] == last["balance"] == sum(range(10, 17)) - 5
    assert first["points_per_yuan_redeemed"] == 100


def test_points_labels_speak_chinese_by_default(sf, shop, shopper):
    customer = _spent(shop, shopper, 0)
    _points(shop, customer, 1)
    assert sf.get(f"{ME}/points").json()["items"][0]["label"] == "订单获得"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc"])
def test_points_paging_refuses_bad_input(sf, query):
    response = sf.get(f"{ME}/points?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input" and body["detail"]["errors"]


# --- consents ------------------------------------------------------------------------------


def test_consents_read_and_set(sf, shop, shopper, neighbour):
    assert sf.get(f"{ME}/consents").json() == {
        "marketing": False,
        "marketing_at": None,
        "profiling": False,
        "profiling_at": None,
    }
    response = _put(sf, f"{ME}/consents", {"marketing": True, "profiling": False})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["marketing"] is True and body["marketing_at"] and body["profiling"] is False
    again = sf.get(f"{ME}/consents").json()
    assert again == body
    customer = Customer.objects.get(shop=shop, shopper=shopper)
    assert customer.marketing_consent_at is not None and customer.profiling_consent_at is None

    withdrawn = _put(sf, f"{ME}/consents", {"marketing": False, "profiling": True}).json()
    assert withdrawn["marketing"] is False and withdrawn["marketing_at"] is None and withdrawn["profiling"] is True
    # the neighbour's choices are untouched
    theirs = Customer.objects.get(shop=shop, shopper=neighbour)
    assert theirs.marketing_consent_at is not None and theirs.profiling_consent_at is not None


def test_consents_query_count(sf, shop, shopper, django_assert_num_queries):
    consent_set(shop=shop, shopper=shopper, marketing=True, profiling=True)
    with django_assert_num_queries(SHOP + TOKEN + OVERVIEW):
        assert sf.get(f"{ME}/consents").json()["profiling"] is True


@pytest.mark.parametrize(
    "payload",
    [
        {"marketing": True},
        {"marketing": "yes", "profiling": False},
        {"marketing": 1, "profiling": 0},
        {"marketing": True, "profiling": False, "phone": "13800138000"},
        [],
    ],
)
def test_consents_refuse_bad_input(sf, shop, shopper, payload):
    response = _put(sf, f"{ME}/consents", payload)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid_input" and body["detail"]["errors"]
    assert set(body) == {"code", "message", "detail", "request_id"}
    assert not Customer.objects.filter(shop=shop, marketing_consent_at__isnull=False).exists()


def test_consents_body_that_is_not_json(sf):
    response = sf.put(f"{ME}/consents", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "detail", "request_id"}


def test_session_sign_in_needs_csrf_to_change_consents(shop, shopper):
    client = Client(enforce_csrf_checks=True)
    sign_in_shopper(client, shopper)
    assert client.get(f"{ME}/consents").status_code == 200
    refused = _put(client, f"{ME}/consents", {"marketing": True, "profiling": True})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"


# --- export --------------------------------------------------------------------------------


def test_export_is_the_same_attachment_as_the_storefront_page(client, shop, shopper, shopper_key, neighbour):
    customer = _spent(shop, shopper, 12_300)
    _points(shop, customer, 3)
    response = client.get(f"{ME}/export", headers=bearer(shopper_key))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)

    sign_in_shopper(client, shopper)
    page = json.loads(client.get(reverse("storefront:privacy_export")).content)
    data.pop("exported_at"), page.pop("exported_at")
    assert data == page
    assert data["shopper"]["phone"] == "13800138000"
    assert [p["points"] for p in data["shops"][0]["points"]] == [10, 11, 12]
    text = response.content.decode()
    assert "13900001111" not in text and "4242" not in text


# --- deletion ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [{"confirm": "yes"}, {"confirm": ""}, {"confirm": "delete me"}])
def test_delete_needs_the_confirmation_word(sf, shopper, payload):
    response = _post(sf, f"{ME}/delete", payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "confirm_mismatch" and body["detail"] == {"confirm": ["delete", "注销"]}
    assert body["message"] == "请输入“注销”以确认。"
    assert Shopper.objects.get(pk=shopper.pk).phone == "13800138000"


@pytest.mark.parametrize("payload", [{}, {"confirm": 1}, {"confirm": "x" * 41}, {"confirm": "delete", "force": True}])
def test_delete_refuses_malformed_bodies(sf, shopper, payload):
    response = _post(sf, f"{ME}/delete", payload)
    assert response.status_code == 400 and response.json()["code"] == "invalid_input"
    assert Shopper.objects.get(pk=shopper.pk).phone == "13800138000"


def test_delete_is_refused_while_an_order_is_open(sf, shop, shopper, shopper_key, address, product):
    order = place(shop, shopper, address, product)
    response = _post(sf, f"{ME}/delete", {"confirm": "delete"})
    assert response.status_code == 409
    assert response.json()["code"] == "open_orders" and response.json()["message"]
    assert Shopper.objects.get(pk=shopper.pk).phone == "13800138000"
    assert sf.get(f"{ME}/membership").status_code == 200  # the token still works

    lifecycle.order_cancel(order_id=order.pk, actor=shopper)
    assert _post(sf, f"{ME}/delete", {"confirm": " DELETE "}).status_code == 204


def test_delete_anonymises_and_revokes_the_token(client, shop, shopper, shopper_key, address, neighbour):
    second_key = token_issue(shop=shop, shopper=shopper, name="another device")[1]
    response = _post(client, f"{ME}/delete", {"confirm": "注销"}, **bearer(shopper_key))
    assert response.status_code == 204
    assert Shopper.objects.get(pk=shopper.pk).phone == ""
    assert not ApiToken.objects.filter(shopper=shopper, revoked_at__isnull=True).exists()
    for key in (shopper_key, second_key):
        after = client.get(f"{ME}/membership", headers=bearer(key))
        assert after.status_code == 401 and after.json()["code"] == "not_authenticated"
    # the neighbour's account is untouched
    assert Shopper.objects.get(pk=neighbour.pk).phone == "13900001111"


def test_delete_by_session_signs_the_browser_out(shop, shopper):
    client = Client(enforce_csrf_checks=True)
    sign_in_shopper(client, shopper)
    csrf = client.get(f"{API}/storefront/csrf").json()["csrf_token"]
    response = _post(client, f"{ME}/delete", {"confirm": "delete"}, **{"X-CSRFToken": csrf})
    assert response.status_code == 204
    assert client.get(f"{ME}/membership").status_code == 401


# --- who may ask ---------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_needs_a_signed_in_shopper(endpoint, shop):
    response = Client().get(f"{ME}/{endpoint}")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_a_staff_token_is_not_a_shopper(client, shop, owner_key):
    response = client.get(f"{ME}/membership", headers=bearer(owner_key))
    assert response.status_code == 401


def test_another_shops_token_is_refused(client, shop, other_shop, shopper):
    key = token_issue(shop=other_shop, shopper=shopper)[1]
    for endpoint in ENDPOINTS:
        response = client.get(f"{ME}/{endpoint}", headers=bearer(key))
        assert response.status_code == 403 and response.json()["code"] == "wrong_shop", endpoint
    changed = _put(client, f"{ME}/consents", {"marketing": True, "profiling": True}, **bearer(key))
    assert changed.status_code == 403
    deleted = _post(client, f"{ME}/delete", {"confirm": "delete"}, **bearer(key))
    assert deleted.status_code == 403 and Shopper.objects.get(pk=shopper.pk).phone == "13800138000"
    assert not Customer.objects.filter(marketing_consent_at__isnull=False).exists()


def test_each_shop_shows_only_its_own_record(client, shop, other_shop, shopper, levels):
    _points(shop, _spent(shop, shopper, 60_000), 1)
    theirs = _spent(other_shop, shopper, 0)
    PointsEntry.objects.create(shop=other_shop, customer=theirs, delta=777, reason="adjust")
    MemberLevel.objects.create(shop=other_shop, name="隔壁会员", min_spend=0)
    key = token_issue(shop=other_shop, shopper=shopper)[1]
    there = client.get("/s/other/api/v1/storefront/me/membership", headers=bearer(key)).json()
    assert there["level"]["name"] == "隔壁会员" and there["points_balance"] == 777
    assert [lv["name"] for lv in there["levels"]] == ["隔壁会员"]
    points = client.get("/s/other/api/v1/storefront/me/points", headers=bearer(key)).json()
    assert [i["points"] for i in points["items"]] == [777]


def test_endpoints_are_in_the_openapi_document(client, shop):
    paths = client.get(f"{API}/openapi.json").json()["paths"]
    for path in ("membership", "points", "consents", "export", "delete"):
        assert f"/api/v1/storefront/me/{path}" in paths
