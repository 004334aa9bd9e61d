"""Every error has the body {"code", "message", "detail", "request_id"}; bad input is a 4xx, never a 500."""

import json

import pytest
from django.test import Client

from siyu.accounts.roles import SERVICE

from ..factories import make_staff
from .conftest import API, bearer


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "detail", "request_id"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_not_authenticated(client, shop):
    assert_error(client.get(f"{API}/console/products"), 401, "not_authenticated")
    assert_error(client.get(f"{API}/console/products", headers=bearer("sy_nonsense")), 401, "not_authenticated")
    assert_error(client.get(f"{API}/storefront/me"), 401, "not_authenticated")


def test_shopper_token_is_not_a_staff_token(client, shopper_key):
    assert_error(client.get(f"{API}/console/products", headers=bearer(shopper_key)), 401, "not_authenticated")


def test_revoked_token_no_longer_works(api, owner, owner_key):
    token_id = owner.apitoken_set.get().pk
    assert api.delete(f"{API}/console/tokens/{token_id}").status_code == 204
    assert_error(api.get(f"{API}/console/products"), 401, "not_authenticated")


def test_not_found(api, shop):
    body = assert_error(api.get(f"{API}/console/products/nosuchthing"), 404, "not_found")
    assert body["detail"] == {"product": "nosuchthing"}
    assert_error(api.get(f"{API}/storefront/products/nosuchthing"), 404, "not_found")
    assert_error(api.get(f"{API}/no/such/endpoint"), 404, "not_found")
    assert_error(api.get("/api/v2/anything"), 404, "not_found")
    assert_error(api.get(f"{API}/"), 404, "not_found")


def test_method_not_allowed(api, shop):
    body = assert_error(api.delete(f"{API}/storefront/shop"), 405, "method_not_allowed")
    assert body["detail"] == {"allowed": ["GET"]}


def test_validation_error_is_400_with_pydantic_errors(api, shop):
    response = api.post(f"{API}/console/products", {"name": "x", "price_fen": "lots"}, content_type="application/json")
    body = assert_error(response, 400, "invalid_input")
    assert any(err["loc"][-1] == "price_fen" for err in body["detail"]["errors"])


def test_domain_error_uses_its_status_and_body(api, shop, product):
    response = api.post(
        f"{API}/console/products/{product.public_id}/status", {"status": "draft"}, content_type="application/json"
    )
    body = assert_error(response, 409, "bad_transition")
    assert body["detail"] == {"from": "on_sale", "to": "draft"}


def test_malformed_json_is_400(api, shop):
    response = api.post(f"{API}/console/categories", "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


def test_permission_denied_for_service_role(client, shop, owner, product):
    service = make_staff(shop, role=SERVICE, username="kefu")
    client.force_login(service.user)
    assert client.get(f"{API}/console/products").status_code == 200  # may look
    response = client.patch(
        f"{API}/console/products/{product.public_id}", {"name": "改名"}, content_type="application/json"
    )
    body = assert_error(response, 403, "permission_denied")
    assert body["detail"] == {"permission": "catalog.manage"}
    assert_error(
        client.post(f"{API}/console/tokens", {"name": "x"}, content_type="application/json"), 403, "permission_denied"
    )
    product.refresh_from_db()
    assert product.name == "测试商品"


def test_inactive_staff_token_stops_working(api, owner, shop):
    from siyu.accounts.models import StaffMember

    StaffMember.objects.filter(pk=owner.pk).update(is_active=False)
    assert_error(api.get(f"{API}/console/products"), 401, "not_authenticated")


def test_rate_limited_otp_is_429(client, shop):
    url = f"{API}/storefront/auth/otp"
    assert client.post(url, {"phone": "13900001111"}, content_type="application/json").status_code == 202
    body = assert_error(
        client.post(url, {"phone": "13900001111"}, content_type="application/json"), 429, "rate_limited"
    )
    assert body["detail"] == {"retry_after": 60}


def test_session_auth_respects_csrf(shop, owner, product):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    url = f"{API}/console/products/{product.public_id}"
    assert client.get(url).status_code == 200  # safe methods need no token
    response = client.patch(url, {"name": "改名"}, content_type="application/json")
    assert_error(response, 403, "csrf_failed")
    client.get(f"{API}/storefront/csrf")
    token = client.cookies["csrftoken"].value
    response = client.patch(url, {"name": "改名"}, content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json()["name"] == "改名"


def test_bearer_token_needs_no_csrf(shop, owner_key, product):
    client = Client(enforce_csrf_checks=True)
    response = client.patch(
        f"{API}/console/products/{product.public_id}",
        {"name": "改名"},
        content_type="application/json",
        headers=bearer(owner_key),
    )
    assert response.status_code == 200


GARBAGE_BODIES = [
    b"",
    b"null",
    b"[]",
    b"[1, 2, 3]",
    b'"just a string"',
    b"12",
    b"{",
    b"\xff\xfe\x00garbage",
    json.dumps({"name": None}).encode(),
    json.dumps({"name": 12, "price_fen": -5}).encode(),
    json.dumps({"name": "x" * 100_000}).encode(),
    json.dumps({"name": "ok", "price_fen": 10**30}).encode(),
    json.dumps({"name": "ok", "price_fen": 1.5}).encode(),
    json.dumps({"name": "ok", "stock": -1}).encode(),
    json.dumps({"name": "ok", "category_id": 10**20}).encode(),
    json.dumps({"name": "ok", "selling_points": "not a list"}).encode(),
    json.dumps({"name": "nul\x00byte"}).encode(),
    json.dumps({"name": "ok", "unknown_field": 1}).encode(),
    json.dumps({"name": {"nested": ["deep"]}}).encode(),
]


@pytest.mark.parametrize("body", GARBAGE_BODIES)
def test_garbage_product_bodies_are_refused_with_4xx(api, shop, body):
    response = api.post(f"{API}/console/products", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"code", "message", "detail", "request_id"}


GARBAGE_CALLS = [
    ("patch", "/console/products/{pid}", {"category_id": -1}),
    ("patch", "/console/products/{pid}", {"consumption_cycle_days": 10**9}),
    ("patch", "/console/products/{pid}", {"return_policy": "whatever"}),
    ("post", "/console/products/{pid}/status", {"status": "sold"}),
    ("put", "/console/products/{pid}/specs", {"specs": [{"name": "颜色", "values": ["a/b"]}]}),
    ("put", "/console/products/{pid}/specs", {"specs": [{"name": "", "values": []}]}),
    ("put", "/console/products/{pid}/specs", {"specs": "colour"}),
    ("patch", "/console/products/{pid}/skus", {"skus": [{"id": 999999, "price_fen": 5}]}),
    ("patch", "/console/products/{pid}/skus", {"skus": [{"id": "abc"}]}),
    ("patch", "/console/products/{pid}/skus", {"skus": []}),
    ("post", "/console/products/{pid}/skus/{sku}/stock", {"delta": -1000}),
    ("post", "/console/products/{pid}/skus/{sku}/stock", {"delta": "many"}),
    ("post", "/console/products/{pid}/skus/999999999/stock", {"delta": 1}),
    ("post", "/console/products/{pid}/skus/99999999999999999999999/stock", {"delta": 1}),
    ("post", "/console/categories", {"name": ""}),
    ("post", "/console/categories", {"name": "a", "parent_id": 123456}),
    ("post", "/console/categories", {"name": "a", "position": -3}),
    ("patch", "/console/categories/99999999999999999999", {"name": "a"}),
    ("post", "/console/shipping-templates", {"name": "x", "base_fee_fen": -100}),
    ("post", "/console/shipping-templates", {"name": "x", "remote_provinces": ["x" * 50]}),
    ("put", "/console/featured", {"product_ids": ["nope"]}),
    ("put", "/console/featured", {"product_ids": [str(i) for i in range(9)]}),
    ("patch", "/console/shop", {"name": ""}),
    ("patch", "/console/shop", {"default_return_policy": "forever"}),
    ("post", "/console/tokens", {"name": ["list"]}),
    ("delete", "/console/tokens/0", None),
    ("get", "/console/products?limit=1000", None),
    ("get", "/console/products?limit=-1", None),
    ("get", "/console/products?offset=abc", None),
    ("get", "/console/products?category=99999999999999999999999", None),
    ("get", "/console/products?status=weird", None),
    ("get", "/storefront/products?category=abc", None),
    ("post", "/storefront/auth/otp", {"phone": "12345"}),
    ("post", "/storefront/auth/otp", {"phone": 13800138000}),
    ("post", "/storefront/auth/login", {"phone": "13800138000", "code": "abc"}),
    ("post", "/storefront/auth/login", {"phone": "13800138000", "code": "123456"}),
]


@pytest.mark.parametrize(("method", "path", "payload"), GARBAGE_CALLS)
def test_garbage_calls_are_refused_with_4xx(api, shop, product, method, path, payload):
    sku = product.skus.get()
    url = API + path.format(pid=product.public_id, sku=sku.pk)
    kwargs = {"content_type": "application/json"} if payload is not None else {}
    response = getattr(api, method)(url, payload, **kwargs) if payload is not None else getattr(api, method)(url)
    assert 400 <= response.status_code < 500, response.content
    assert set(response.json()) == {"code", "message", "detail", "request_id"}


def test_garbage_multipart_upload_is_refused(api, shop, product):
    url = f"{API}/console/products/{product.public_id}/main-image"
    from django.core.files.uploadedfile import SimpleUploadedFile

    not_image = SimpleUploadedFile("x.png", b"this is not a png", content_type="image/png")
    assert_error(api.post(url, {"image": not_image}), 400, "invalid_input")
    assert_error(api.post(url, {}), 400, "invalid_input")
    response = api.post(
        url, b"--broken\r\nContent-Disposition: form-data\r\n", content_type="multipart/form-data; boundary=broken"
    )
    assert 400 <= response.status_code < 500


def test_error_message_speaks_chinese_by_default(client, shop):
    assert client.get(f"{API}/console/products").json()["message"] == "请先登录。"
    english = client.get(f"{API}/console/products", headers={"Accept-Language": "en"}).json()
    assert english["message"] == "Please sign in first."


def test_oversized_body_is_413(api, shop, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post(f"{API}/console/products", json.dumps({"name": "x" * 5000}), content_type="application/json")
    assert_error(response, 413, "too_large")


@pytest.mark.parametrize("method", ["options", "put", "head"])
def test_other_methods_get_the_error_body(api, shop, method):
    response = getattr(api, method)(f"{API}/storefront/products")
    assert response.status_code == 405
    if method != "head":
        assert response.json()["code"] == "method_not_allowed"


def test_an_unexpected_failure_still_has_the_error_body(client, shop, monkeypatch):
    from siyu.api import storefront

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(storefront, "categories_tree", broken)
    body = assert_error(client.get(f"{API}/storefront/categories"), 500, "server_error")
    assert "boom" not in body["message"]
