"""The discounts API: console operations (create, read, change, end, results, member-price
matrix) and the storefront's product discounts; errors as 4xx bodies."""

import pytest
from django.utils import timezone

from siyu.accounts.services import token_issue
from siyu.promotions.discounts.models import LimitedTimeDiscount, MemberPrice, ThresholdActivity

from ...factories import make_staff, sign_in_shopper
from .conftest import make_level, make_limited, make_threshold, sku_of, window

pytestmark = pytest.mark.django_db

BASE = "/api/v1/console/discounts"


@pytest.fixture
def api(client, shop, owner):
    _token, key = token_issue(shop=shop, staff=owner, name="t")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def _post(api, url, body, method="post"):
    return getattr(api, method)(url, body, content_type="application/json")


def test_threshold_lifecycle(api, shop, tea):
    body = {
        "name": "满100减10",
        **window(),
        "scope": "products",
        "product_ids": [tea.public_id],
        "tiers": [{"threshold": 10000, "value": 1000}, {"threshold": 20000, "value": 2500}],
        "stacks_with_coupons": False,
    }
    made = _post(api, f"{BASE}/thresholds", body)
    assert made.status_code == 201, made.content
    data = made.json()
    assert data["product_ids"] == [tea.public_id] and data["phase"] == "running" and data["tiers"][1]["value"] == 2500
    one = api.get(f"{BASE}/thresholds/{data['id']}").json()
    assert one["stacks_with_coupons"] is False
    changed = _post(api, f"{BASE}/thresholds/{data['id']}", {**body, "name": "改名"}, method="put")
    assert changed.status_code == 200 and changed.json()["name"] == "改名"
    listed = api.get(f"{BASE}/thresholds?limit=5").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == data["id"]
    ended = api.post(f"{BASE}/thresholds/{data['id']}/end")
    assert ended.json()["status"] == "ended" and ended.json()["phase"] == "ended"
    assert api.post(f"{BASE}/thresholds/{data['id']}/end").status_code == 409
    results = api.get(f"{BASE}/thresholds/{data['id']}/results").json()
    assert results["orders_placed"] == 0


def test_threshold_errors(api, shop):
    bad = _post(api, f"{BASE}/thresholds", {"name": "x", **window(), "tiers": [{"threshold": 100, "value": 500}]})
    assert bad.status_code == 409 and "tiers.0.value" in bad.json()["detail"]
    assert bad.json()["code"] == "settings_conflict"
    assert api.get(f"{BASE}/thresholds/nope").status_code == 404
    assert _post(api, f"{BASE}/thresholds", {"name": "x"}).status_code == 400


def test_limited_lifecycle_and_floor(api, shop, owner, tea):
    from siyu.distribution.prices import price_floor_set

    sku = sku_of(tea)
    body = {"name": "限时", **window(), "per_customer_limit": 2, "items": [{"sku_id": sku.pk, "price": 4800}]}
    made = _post(api, f"{BASE}/limited-time", body)
    assert made.status_code == 201, made.content
    data = made.json()
    assert data["items"][0]["final_price"] == 4800 and data["items"][0]["product_id"] == tea.public_id
    changed = _post(
        api, f"{BASE}/limited-time/{data['id']}", {**body, "items": [{"sku_id": sku.pk, "off_bp": 2000}]}, "put"
    )
    assert changed.json()["items"][0]["final_price"] == 4800
    price_floor_set(actor=owner, sku=sku, min_price=5000)
    refused = _post(api, f"{BASE}/limited-time/{data['id']}", body, "put")
    assert refused.status_code == 400 and refused.json()["detail"]["min_price"] == 5000
    assert refused.json()["code"] == "below_price_floor"
    ok = _post(api, f"{BASE}/limited-time/{data['id']}", {**body, "override_reason": "清仓"}, "put")
    assert ok.status_code == 200
    assert api.get(f"{BASE}/limited-time").json()["count"] == 1
    assert api.post(f"{BASE}/limited-time/{data['id']}/end").json()["status"] == "ended"
    assert api.get(f"{BASE}/limited-time/{data['id']}/results").status_code == 200
    both = _post(api, f"{BASE}/limited-time", {**body, "items": [{"sku_id": sku.pk, "price": 1, "off_bp": 1}]})
    assert both.status_code == 400


def test_member_price_matrix(api, shop, tea):
    level = make_level(shop)
    sku = sku_of(tea)
    url = f"{BASE}/member-prices/{tea.public_id}"
    empty = api.get(url).json()
    assert empty["levels"][0]["id"] == level.pk and empty["prices"] == []
    saved = _post(api, url, {"prices": [{"sku_id": sku.pk, "level_id": level.pk, "price": 5000}]}, "put")
    assert saved.status_code == 200 and saved.json()["prices"] == [
        {"sku_id": sku.pk, "level_id": level.pk, "price": 5000}
    ]
    too_high = _post(api, url, {"prices": [{"sku_id": sku.pk, "level_id": level.pk, "price": 7000}]}, "put")
    assert too_high.status_code == 409
    assert MemberPrice.objects.get().price == 5000
    assert api.get(f"{BASE}/member-prices/levels/{level.pk}/results").status_code == 200
    assert api.get(f"{BASE}/member-prices/levels/999999/results").status_code == 404
    assert api.get(f"{BASE}/member-prices/nope").status_code == 404


def test_other_shop_staff_cannot_see(client, shop, other_shop, owner, tea):
    activity = make_threshold(owner, shop)
    stranger = make_staff(other_shop, username="other-boss")
    _token, key = token_issue(shop=other_shop, staff=stranger, name="t")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"{BASE}/thresholds/{activity.public_id}", headers=headers).status_code == 403
    mine = client.get(f"/s/other/api/v1/console/discounts/thresholds/{activity.public_id}", headers=headers)
    assert mine.status_code == 404


def test_service_role_reads_but_cannot_change(client, shop, owner):
    from siyu.accounts.roles import SERVICE

    service = make_staff(shop, role=SERVICE, username="service1")
    client.force_login(service.user)
    assert client.get(f"{BASE}/thresholds").status_code == 200
    body = {"name": "x", **window(), "tiers": [{"threshold": 100, "value": 10}]}
    assert client.post(f"{BASE}/thresholds", body, content_type="application/json").status_code == 403
    assert not ThresholdActivity.objects.exists() and not LimitedTimeDiscount.objects.exists()


def test_storefront_product_discounts(client, shop, owner, shopper, tea):
    level = make_level(shop, name="金卡")
    make_limited(owner, shop, tea, price=4800, limit=1)
    make_threshold(owner, shop, tiers=((10000, 1000),))
    from .conftest import set_member_price

    set_member_price(owner, shop, tea, level, 5000)
    sign_in_shopper(client, shopper)
    data = client.get(f"/api/v1/storefront/products/{tea.public_id}/discounts").json()
    assert data["limited_time"][0]["price"] == 4800 and data["limited_time"][0]["per_customer_limit"] == 1
    assert data["member_prices"][0]["price"] == 5000 and data["level_name"] == "金卡"
    assert data["thresholds"][0]["tiers"] == ["Spend ¥100.00, save ¥10.00"] or data["thresholds"][0]["tiers"]
    assert client.get("/api/v1/storefront/products/nope/discounts").status_code == 404
    assert timezone.now()
