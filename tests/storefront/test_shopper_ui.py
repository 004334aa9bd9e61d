"""What a shopper sees and does on a phone (issue 10): cart tab and badge, cart lines, the 省/市/区
list, the checkout breakdown, sign-in consent, labels instead of codes, the 404 page, the favicon."""

import re

import pytest

from siyu.accounts import sms
from siyu.accounts.agreements import AGREEMENT_VERSION
from siyu.accounts.models import Address, AgreementAcceptance
from siyu.accounts.regions import region_cities, region_districts, region_problem
from siyu.accounts.services import address_create
from siyu.core.errors import InvalidInput
from siyu.customers.models import MemberLevel, PointsEntry
from siyu.customers.stats import customer_for_shopper
from siyu.orders.checkout import cart_lines, cart_set
from siyu.orders.models import Order

from ..factories import ShippingTemplateFactory, make_product
from ..orders.helpers import pay, place

pytestmark = pytest.mark.django_db

ADDRESS = {"recipient": "王五", "phone": "13800138000", "province": "浙江省", "city": "杭州市",
           "district": "西湖区", "detail": "文三路 1 号"}  # fmt: skip


@pytest.fixture
def two(shop):
    template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=9900)
    return [make_product(shop, name=n, price=p, stock=5, shipping_template=template)
            for n, p in (("龙井", 3000), ("碧螺春", 2000))]  # fmt: skip


def _sku(product):
    return product.skus.get()


def test_tab_bar_has_the_cart_with_a_count_badge(shopper_client, shop, shopper, two):
    html = shopper_client.get("/").content.decode()
    assert 'id="tab-cart"' in html and "购物车" in html and 'id="cart-badge"' not in html  # empty: no badge
    cart_set(shop=shop, shopper=shopper, sku_id=_sku(two[0]).pk, quantity=2)
    cart_set(shop=shop, shopper=shopper, sku_id=_sku(two[1]).pk, quantity=1)
    for url in ("/", f"/p/{two[0].public_id}/", "/my/"):
        html = shopper_client.get(url).content.decode()
        assert re.search(r'id="(bar-)?cart-badge"[^>]*>3<', html), url


def test_adding_to_the_cart_offers_the_way_to_checkout(shopper_client, two):
    product = two[0]
    response = shopper_client.post(
        "/cart/update/",
        {"sku": _sku(product).pk, "quantity": 1, "mode": "add", "back": f"/p/{product.public_id}/"},
        follow=True,
    )
    html = response.content.decode()
    assert "已加入购物车" in html and 'class="flash-go" href="/cart/"' in html and "去结算" in html
    assert 'id="buybar"' in html and "加入购物车" in html and "立即购买" in html
    assert 'id="tab-cart"' not in html  # the buy bar takes the tab bar's place on a product page


def test_cart_lines_step_warn_delete_and_check_out_only_the_ticked(shopper_client, shop, shopper, two, address):
    first, second = _sku(two[0]), _sku(two[1])
    cart_set(shop=shop, shopper=shopper, sku_id=first.pk, quantity=2)
    cart_set(shop=shop, shopper=shopper, sku_id=second.pk, quantity=4)
    second.stock = 3
    second.save(update_fields=["stock"])
    html = shopper_client.get("/cart/").content.decode()
    assert "仅剩 3 件" in html  # the line asking for 4 of 3
    assert 'name="quantity" value="3"' in html and 'name="quantity" value="1"' in html  # − and + of line 1
    shopper_client.post("/cart/update/", {"sku": first.pk, "quantity": 3})
    assert {ln.sku_id: ln.quantity for ln in cart_lines(shop=shop, shopper=shopper)}[first.pk] == 3

    page = shopper_client.get(f"/checkout/?from_cart=1&line={first.pk}").content.decode()
    assert "龙井" in page and "碧螺春" not in page and f'name="line" value="{first.pk}"' in page
    shopper_client.post(
        "/checkout/",
        {"from_cart": "1", "line": [first.pk], "address": address.public_id, "idempotency_key": "k" * 16},
    )
    order = Order.objects.get(shopper=shopper)
    assert [(ln.product_name, ln.quantity) for ln in order.lines.all()] == [("龙井", 3)]
    assert [ln.sku_id for ln in cart_lines(shop=shop, shopper=shopper)] == [second.pk]  # the unticked line stays

    shopper_client.post("/cart/update/", {"sku": second.pk, "quantity": 0})  # 删除
    assert cart_lines(shop=shop, shopper=shopper) == []


def test_the_region_list_has_every_shape(shop):
    assert region_cities(province="北京市") == ["北京市"] and "朝阳区" in region_districts(
        province="北京市", city="北京市"
    )
    assert region_districts(province="广东省", city="东莞市") == ["东莞市"]  # no districts below
    assert "西湖区" in region_districts(province="浙江省", city="杭州市")
    assert region_problem(province="浙江省", city="杭州市", district="西湖区") is None
    assert region_problem(province="浙江", city="杭州市", district="西湖区") == "province"
    assert region_problem(province="浙江省", city="广州市", district="西湖区") == "city"
    assert region_problem(province="浙江省", city="杭州市", district="朝阳区") == "district"


def test_address_service_refuses_regions_not_in_the_list_and_bad_phones(shop, shopper):
    for field, value in (("province", "火星省"), ("city", "广州市"), ("district", "朝阳区"), ("phone", "12345")):
        with pytest.raises(InvalidInput) as refused:
            address_create(shop=shop, shopper=shopper, data=ADDRESS | {field: value})
        assert field in refused.value.detail
    assert address_create(shop=shop, shopper=shopper, data=ADDRESS).district == "西湖区"


def test_address_page_offers_the_list_and_explains_in_chinese(shopper_client, shop, shopper):
    form = shopper_client.get("/my/addresses/new/").content.decode()
    assert '<select id="province"' in form and "<option >浙江省</option>" in form.replace("<option>", "<option >")
    regions = shopper_client.get("/regions.json")
    assert regions["Cache-Control"].startswith("max-age") or "public" in regions["Cache-Control"]
    assert "西湖区" in regions.json()["浙江省"]["杭州市"]
    refused = shopper_client.post("/my/addresses/new/", ADDRESS | {"district": "朝阳区", "phone": "123"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "请从列表中选择" in html and "11 位" in html
    assert "not in the region list" not in html and "invalid phone" not in html
    assert "<option selected>杭州市</option>" in html  # the cities of the chosen province, kept
    assert not Address.objects.filter(shopper=shopper).exists()


def test_api_refuses_a_region_outside_the_list(client, shop, shopper):
    from siyu.accounts.services import token_issue

    from ..api.conftest import API, bearer

    shopper_key = token_issue(shop=shop, shopper=shopper, name="test")[1]
    bad = client.post(f"{API}/storefront/me/addresses", ADDRESS | {"city": "苏州市"}, content_type="application/json",
                      headers=bearer(shopper_key))  # fmt: skip
    assert bad.status_code == 400 and bad.json()["detail"] == {"city": "not in the region list"}
    good = client.post(f"{API}/storefront/me/addresses", ADDRESS, content_type="application/json",
                       headers=bearer(shopper_key))  # fmt: skip
    assert good.status_code == 201, good.content


def test_checkout_shows_points_balance_most_usable_and_each_rule(shopper_client, shop, shopper, two, address):
    MemberLevel.objects.create(shop=shop, name="金卡", min_spend=0, discount_bp=1000)
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    PointsEntry.objects.create(shop=shop, customer=customer, delta=12345, reason="adjust")
    sku = _sku(two[0])  # ¥30.00 × 2 = ¥60.00, 10% off → ¥54.00; points pay at most half: ¥27 = 2700 points
    html = shopper_client.get(f"/checkout/?sku={sku.pk}&quantity=2").content.decode()
    assert "您有 12345 积分，本单最多可用 2700 积分" in html and 'max="2700"' in html
    assert "会员权益（金卡）" in html or "金卡" in html  # the member discount is its own line
    assert "-¥6.00" in html
    assert "满 ¥99.00 包邮，还差 ¥39.00" in html  # the postage rule, with what is missing
    used = shopper_client.get(f"/checkout/?sku={sku.pk}&quantity=2&points=2700").content.decode()
    assert re.search(r"adj-points.*-¥27\.00", used)


def test_sign_in_records_the_agreement_version(client, shop, django_capture_on_commit_callbacks):
    page = client.get("/login/").content.decode()
    assert 'href="/agreement/"' in page and 'href="/privacy-policy/"' in page and "《隐私政策》" in page
    assert "私域优选用户协议" in client.get("/agreement/").content.decode()
    assert "私域优选隐私政策" in client.get("/privacy-policy/").content.decode()
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/login/", {"phone": "13912345678", "action": "send"})
    assert 'data-countdown="60"' in sent.content.decode()  # the resend button counts down
    code = re.search(r"\d{6}", sms.outbox[-1][1])[0]
    client.post("/login/", {"phone": "13912345678", "code": code, "action": "login"})
    accepted = AgreementAcceptance.objects.get()
    assert (accepted.shop_id, accepted.version) == (shop.pk, AGREEMENT_VERSION) and accepted.accepted_at


def test_api_sign_in_records_the_agreement_version(client, shop, django_capture_on_commit_callbacks):
    from ..api.conftest import API

    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{API}/storefront/auth/otp", {"phone": "13912345678"}, content_type="application/json")
    code = re.search(r"\d{6}", sms.outbox[-1][1])[0]
    body = {"phone": "13912345678", "code": code}
    assert client.post(f"{API}/storefront/auth/login", body, content_type="application/json").status_code == 200
    assert AgreementAcceptance.objects.get().version == AGREEMENT_VERSION


def test_after_sale_pages_show_labels_not_codes(shopper_client, shop, shopper, address, two):
    order = place(shop, shopper, address, two[0])
    pay(order)
    line = order.lines.get()
    form = shopper_client.get(f"/orders/{order.public_id}/after-sale/{line.pk}/").content.decode()
    assert "退货政策: 七天无理由退货" in form and ": no_reason_7d" not in form
    shopper_client.post(
        f"/orders/{order.public_id}/after-sale/{line.pk}/",
        {"kind": "refund_only", "quantity": 1, "reason_code": "no_reason", "reason": "不想要了"},
    )
    detail = shopper_client.get(f"/orders/{order.public_id}/").content.decode()
    assert "[no_reason]" not in detail and "不想要了" in detail


def test_unknown_pages_get_the_shops_404_and_the_api_its_json(client, shop):
    page = client.get("/no-such-page/")
    html = page.content.decode()
    assert page.status_code == 404 and "私域优选" in html and 'id="go-home"' in html and "favicon.svg" in html
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["code"] == "not_found" and "request_id" in api.json()
