import re
from unittest.mock import ANY

from siyu.accounts import sms
from siyu.accounts.models import Address, ApiToken
from siyu.accounts.selectors import SHOPPER_SESSION_KEY
from siyu.catalog.models import ProductImage, ProductStatus, Sku
from siyu.catalog.services import featured_set, product_set_specs

from ..factories import CategoryFactory, ShippingTemplateFactory, make_product, make_shopper
from .conftest import API, OTHER_API, bearer

PHONE = "13912345678"


def _post(client, url, payload, **headers):
    return client.post(url, payload, content_type="application/json", headers=headers)


def _request_code(client, django_capture_on_commit_callbacks, base=API) -> str:
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, f"{base}/storefront/auth/otp", {"phone": PHONE})
    assert response.status_code == 202, response.content
    assert "expires_at" in response.json()
    phone, text = sms.outbox[-1]
    assert phone == PHONE
    return re.search(r"(\d{6})", text).group(1)


def test_otp_login_flow_end_to_end(client, shop, django_capture_on_commit_callbacks):
    code = _request_code(client, django_capture_on_commit_callbacks)
    wrong = "000000" if code != "000000" else "111111"
    refused = _post(client, f"{API}/storefront/auth/login", {"phone": PHONE, "code": wrong})
    # a well-formed code that is wrong: the sign-in failed (401), the input was fine
    assert refused.status_code == 401 and refused.json()["code"] == "otp_invalid"
    malformed = _post(client, f"{API}/storefront/auth/login", {"phone": PHONE, "code": "12a456"})
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid_input"

    response = _post(client, f"{API}/storefront/auth/login", {"phone": PHONE, "code": code})
    assert response.status_code == 200, response.content
    body = response.json()
    key = body["token"]
    assert key.startswith("sy_") and body["shopper"]["masked_phone"] == "139****5678"
    token = ApiToken.objects.get(prefix=key[:9])
    assert token.shop_id == shop.pk and token.shopper_id is not None and token.staff_id is None
    assert client.session[SHOPPER_SESSION_KEY] == token.shopper_id

    # the session alone signs the browser in; the token alone signs an app in
    assert client.get(f"{API}/storefront/me").json()["masked_phone"] == "139****5678"
    from django.test import Client

    app = Client()
    renamed = app.patch(
        f"{API}/storefront/me", {"nickname": "小王"}, content_type="application/json", headers=bearer(key)
    )
    assert renamed.status_code == 200 and renamed.json()["nickname"] == "小王"

    # the code is single-use
    again = _post(client, f"{API}/storefront/auth/login", {"phone": PHONE, "code": code})
    assert again.status_code == 401

    assert _post(app, f"{API}/storefront/auth/logout", {}, **bearer(key)).status_code == 204
    assert app.get(f"{API}/storefront/me", headers=bearer(key)).status_code == 401
    assert _post(client, f"{API}/storefront/auth/logout", {}).status_code == 204
    assert client.get(f"{API}/storefront/me").status_code == 401


def test_otp_login_on_another_shop_issues_that_shops_token(
    client, shop, other_shop, django_capture_on_commit_callbacks
):
    code = _request_code(client, django_capture_on_commit_callbacks, base=OTHER_API)
    key = _post(client, f"{OTHER_API}/storefront/auth/login", {"phone": PHONE, "code": code}).json()["token"]
    assert ApiToken.objects.get(prefix=key[:9]).shop_id == other_shop.pk


def test_too_many_wrong_codes_lock_the_challenge(client, shop, django_capture_on_commit_callbacks, settings):
    code = _request_code(client, django_capture_on_commit_callbacks)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.SIYU_OTP_MAX_ATTEMPTS):
        assert _post(client, f"{API}/storefront/auth/login", {"phone": PHONE, "code": wrong}).status_code == 401
    locked = _post(client, f"{API}/storefront/auth/login", {"phone": PHONE, "code": code})
    assert locked.status_code == 429 and locked.json()["code"] == "otp_locked"


def test_otp_rate_limit_per_ip_uses_remote_addr(client, shop, settings, django_capture_on_commit_callbacks):
    settings.SIYU_OTP_MAX_PER_IP_HOUR = 2
    for i in range(2):
        assert _post(client, f"{API}/storefront/auth/otp", {"phone": f"1390000000{i}"}).status_code == 202
    blocked = _post(client, f"{API}/storefront/auth/otp", {"phone": "13900000009"})
    assert blocked.status_code == 429 and blocked.json()["detail"] == {"limit": "ip"}
    elsewhere = client.post(
        f"{API}/storefront/auth/otp", {"phone": "13900000009"}, content_type="application/json", REMOTE_ADDR="10.1.2.3"
    )
    assert elsewhere.status_code == 202


def test_shop_and_home(client, shop, owner):
    category = CategoryFactory(shop=shop, name="水果")
    CategoryFactory(shop=shop, name="苹果", parent=category)
    CategoryFactory(shop=shop, name="隐藏", is_visible=False)
    product = make_product(shop, name="红富士")
    make_product(shop, name="草稿", status=ProductStatus.DRAFT)
    featured_set(actor=owner, shop=shop, product_ids=[product.public_id])
    shop.slogan = "好吃不贵"
    shop.save()
    profile = client.get(f"{API}/storefront/shop").json()
    assert profile["name"] == "私域优选" and profile["slogan"] == "好吃不贵" and profile["logo_url"] is None
    home = client.get(f"{API}/storefront/home").json()
    assert [p["name"] for p in home["featured"]] == ["红富士"]
    assert [(c["name"], [s["name"] for s in c["children"]]) for c in home["categories"]] == [("水果", ["苹果"])]
    assert client.get(f"{API}/storefront/categories").json() == home["categories"]


def test_product_list_filters_and_paginates(client, shop):
    fruit = CategoryFactory(shop=shop, name="水果")
    apple = CategoryFactory(shop=shop, name="苹果", parent=fruit)
    make_product(shop, name="红富士苹果", category=apple)
    make_product(shop, name="香蕉", category=fruit)
    make_product(shop, name="毛巾")
    make_product(shop, name="草稿苹果", status=ProductStatus.DRAFT, category=apple)
    names = lambda r: sorted(p["name"] for p in r.json()["items"])  # noqa: E731
    assert names(client.get(f"{API}/storefront/products")) == ["毛巾", "红富士苹果", "香蕉"]
    assert names(client.get(f"{API}/storefront/products?category={fruit.pk}")) == ["红富士苹果", "香蕉"]
    assert names(client.get(f"{API}/storefront/products?category={apple.pk}")) == ["红富士苹果"]
    blank = client.get(f"{API}/storefront/products?category={apple.pk}&q=")  # blank is refused, not "no filter"
    assert blank.status_code == 400 and blank.json()["detail"] == {"query": {"q": ANY}}
    assert names(client.get(f"{API}/storefront/products?q=苹果")) == ["红富士苹果"]
    page = client.get(f"{API}/storefront/products?limit=2&offset=2").json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 2, 1)
    assert client.get(f"{API}/storefront/products?limit=101").status_code == 400


def test_product_detail_shows_skus_but_never_cost(client, shop, owner):
    template = ShippingTemplateFactory(shop=shop)
    product = make_product(shop, name="T恤", shipping_template=template, return_policy="exchange_only")
    product_set_specs(actor=owner, product=product, specs=[{"name": "颜色", "values": ["红", "蓝"]}])
    Sku.objects.filter(product=product, is_active=True).update(price=5900, cost_price=2000, list_price=7900)
    Sku.objects.filter(product=product, spec_key="蓝").update(stock=0)
    Sku.objects.filter(product=product, spec_key="红").update(stock=3)
    ProductImage.objects.create(product=product, image="products/a.jpg", thumb="products/a_t.jpg")
    response = client.get(f"{API}/storefront/products/{product.public_id}")
    assert response.status_code == 200
    assert "cost" not in response.content.decode() and "2000" not in response.content.decode()
    body = response.json()
    assert body["spec_names"] == ["颜色"]
    skus = {tuple(s["spec_values"]): s for s in body["skus"]}
    assert set(skus) == {("红",), ("蓝",)}  # the switched-off spec-less SKU is not shown
    assert skus[("红",)]["stock_state"] == "in_stock" and skus[("蓝",)]["stock_state"] == "sold_out"
    assert skus[("红",)]["price_fen"] == 5900 and skus[("红",)]["list_price_fen"] == 7900
    assert "stock" not in skus[("红",)]
    assert body["return_policy"]["code"] == "exchange_only" and body["return_policy"]["allows_returns"]
    assert body["shipping"] == {
        "base_fee_fen": 800,
        "free_over_fen": 9900,
        "remote_surcharge_fen": 1200,
        "remote_provinces": ["新疆", "西藏"],
    }
    assert body["images"][0]["url"] == "http://testserver/media/products/a.jpg"
    assert body["can_buy"] is True


def test_draft_product_is_not_found_for_shoppers(client, shop):
    draft = make_product(shop, status=ProductStatus.DRAFT)
    assert client.get(f"{API}/storefront/products/{draft.public_id}").status_code == 404


ADDRESS = {
    "recipient": "张三",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
}


def test_address_crud(client, shop, shopper, shopper_key):
    headers = bearer(shopper_key)
    created = client.post(f"{API}/storefront/me/addresses", ADDRESS, content_type="application/json", headers=headers)
    assert created.status_code == 201, created.content
    first = created.json()
    assert first["is_default"] is True and first["phone"] == "13800138000"
    second = client.post(
        f"{API}/storefront/me/addresses",
        {**ADDRESS, "recipient": "李四", "is_default": True},
        content_type="application/json",
        headers=headers,
    ).json()
    listing = client.get(f"{API}/storefront/me/addresses", headers=headers).json()
    assert [(a["recipient"], a["is_default"]) for a in listing] == [("李四", True), ("张三", False)]
    assert listing[0]["masked_phone"] == "138****8000" and "phone" not in listing[0]
    url = f"{API}/storefront/me/addresses/{first['public_id']}"
    assert client.get(url, headers=headers).json()["detail"] == "文三路 1 号"
    changed = client.put(url, {**ADDRESS, "detail": "文二路 2 号"}, content_type="application/json", headers=headers)
    assert changed.status_code == 200 and changed.json()["detail"] == "文二路 2 号"
    bad = client.put(url, {**ADDRESS, "phone": "123"}, content_type="application/json", headers=headers)
    assert bad.status_code == 400 and {e["loc"][-1] for e in bad.json()["detail"]["errors"]} == {"phone"}
    assert client.delete(f"{API}/storefront/me/addresses/{second['public_id']}", headers=headers).status_code == 204
    assert [a["is_default"] for a in client.get(f"{API}/storefront/me/addresses", headers=headers).json()] == [True]


def test_a_shopper_never_sees_another_shoppers_addresses(client, shop, shopper, shopper_key):
    from siyu.accounts.services import token_issue

    mine = client.post(
        f"{API}/storefront/me/addresses", ADDRESS, content_type="application/json", headers=bearer(shopper_key)
    ).json()
    intruder = make_shopper("13700137000")
    intruder_key = token_issue(shop=shop, shopper=intruder)[1]
    headers = bearer(intruder_key)
    url = f"{API}/storefront/me/addresses/{mine['public_id']}"
    assert client.get(f"{API}/storefront/me/addresses", headers=headers).json() == []
    assert client.get(url, headers=headers).status_code == 404
    assert (
        client.put(url, {**ADDRESS, "recipient": "坏人"}, content_type="application/json", headers=headers).status_code
        == 404
    )
    assert client.delete(url, headers=headers).status_code == 404
    address = Address.objects.get(public_id=mine["public_id"])
    assert address.recipient == "张三" and address.shopper_id == shopper.pk


def test_session_shopper_needs_csrf_for_writes(shop, shopper):
    from django.test import Client

    from ..factories import sign_in_shopper

    client = Client(enforce_csrf_checks=True)
    sign_in_shopper(client, shopper)
    assert client.get(f"{API}/storefront/me").status_code == 200
    refused = client.post(f"{API}/storefront/me/addresses", ADDRESS, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    token = client.get(f"{API}/storefront/csrf").json()["csrf_token"]
    accepted = client.post(
        f"{API}/storefront/me/addresses", ADDRESS, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201
