"""Coupon API: console CRUD, start/end, push, results; storefront centre, claim, my coupons."""

import pytest

from siyu.promotions.coupons.services import coupon_claim

from ...api.conftest import API, bearer
from ...factories import make_shopper
from .steps import make_coupon

BODY = {"name": "满100减20", "kind": "amount_off", "amount_off": 2000, "min_spend": 10000, "valid_days": 7}


def test_console_create_start_patch_end_and_results(client, shop, owner_key):
    auth = bearer(owner_key)
    made = client.post(f"{API}/console/coupons", BODY, content_type="application/json", headers=auth)
    assert made.status_code == 201, made.content
    pid = made.json()["public_id"]
    assert made.json()["status"] == "draft"
    assert client.post(f"{API}/console/coupons/{pid}/start", headers=auth).json()["status"] == "active"
    patched = client.patch(
        f"{API}/console/coupons/{pid}", {"amount_off": 1}, content_type="application/json", headers=auth
    )
    assert patched.status_code == 400  # not a field a running coupon may change through the API
    patched = client.patch(f"{API}/console/coupons/{pid}", {"total": 10}, content_type="application/json", headers=auth)
    assert patched.json()["total"] == 10
    results = client.get(f"{API}/console/coupons/{pid}/results", headers=auth).json()
    assert results["orders_placed"] == 0
    ended = client.post(f"{API}/console/coupons/{pid}/end", {}, content_type="application/json", headers=auth)
    assert ended.json()["status"] == "ended"
    bad = client.post(f"{API}/console/coupons", {**BODY, "min_spend": 0}, content_type="application/json", headers=auth)
    assert bad.status_code == 400 and bad.json()["code"] in ("invalid_input", "validation_error", "invalid")


def test_console_cannot_see_another_shops_coupon(client, shop, other_shop, owner, owner_key):
    from ...factories import make_staff

    theirs = make_coupon(other_shop, make_staff(other_shop))
    response = client.get(f"{API}/console/coupons/{theirs.public_id}", headers=bearer(owner_key))
    assert response.status_code == 404


@pytest.mark.parametrize("n", [2, 12])
def test_console_list_query_count(client, shop, owner, owner_key, n, django_assert_num_queries):
    for i in range(n):
        make_coupon(shop, owner, name=f"券{i}")
    with django_assert_num_queries(4):  # token (2), count, page
        response = client.get(f"{API}/console/coupons?limit=50", headers=bearer(owner_key))
    assert response.json()["count"] == n


def test_storefront_centre_claim_and_my_coupons(client, shop, owner, shopper, shopper_key):
    auth = bearer(shopper_key)
    coupon = make_coupon(shop, owner, per_customer=1)
    hidden = make_coupon(shop, owner, public=False, name="链接券")
    centre = client.get(f"{API}/storefront/coupons", headers=auth).json()
    assert [c["public_id"] for c in centre] == [coupon.public_id] and centre[0]["mine"] == 0
    claim = client.post(
        f"{API}/storefront/coupons/{coupon.public_id}/claim", {}, content_type="application/json", headers=auth
    )
    assert claim.status_code == 201 and claim.json()["coupon"] == coupon.public_id
    again = client.post(
        f"{API}/storefront/coupons/{coupon.public_id}/claim", {}, content_type="application/json", headers=auth
    )
    assert again.status_code == 409 and again.json()["code"] == "claim_limit"
    assert (
        client.post(
            f"{API}/storefront/coupons/{hidden.public_id}/claim", {}, content_type="application/json", headers=auth
        ).status_code
        == 404
    )
    by_link = client.post(
        f"{API}/storefront/coupons/{hidden.public_id}/claim",
        {"ref": "abc12345"},
        content_type="application/json",
        headers=auth,
    )
    assert by_link.status_code == 201 and by_link.json()["source"] == "link"
    mine = client.get(f"{API}/storefront/my/coupons?tab=available", headers=auth).json()
    assert mine["count"] == 2
    assert client.get(f"{API}/storefront/coupons", headers=auth).json()[0]["mine"] == 1


@pytest.mark.parametrize("n", [2, 10])
def test_storefront_lists_query_counts(client, shop, owner, shopper, shopper_key, n, django_assert_num_queries):
    for i in range(n):
        coupon = make_coupon(shop, owner, name=f"券{i}")
        coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    coupon_claim(shop=shop, shopper=make_shopper(), public_id=coupon.public_id)
    with django_assert_num_queries(3):  # token (2), centre
        assert len(client.get(f"{API}/storefront/coupons", headers=bearer(shopper_key)).json()) == n
    with django_assert_num_queries(4):  # token (2), count, page
        assert client.get(f"{API}/storefront/my/coupons", headers=bearer(shopper_key)).json()["count"] == n
