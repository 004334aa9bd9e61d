import io
import json
import re

import pytest
from PIL import Image

from siyu.accounts import sms
from siyu.accounts.models import Address, Shopper
from siyu.catalog import services as catalog
from siyu.catalog.models import ProductStatus, Sku
from tests.promotion_flags import promotion_flags_warm

from ..factories import (
    CategoryFactory,
    ShippingTemplateFactory,
    image_upload,
    make_product,
    make_shopper,
    sign_in_shopper,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(shop, owner):
    """A small real catalogue: categories, a spec'd product with images, featured slots."""
    tea = CategoryFactory(shop=shop, name="茶饮")
    green = CategoryFactory(shop=shop, name="绿茶", parent=tea)
    template = ShippingTemplateFactory(shop=shop)
    products = [
        make_product(shop, name=f"明前龙井{i}", category=green, price=5900 + i, shipping_template=template)
        for i in range(10)
    ]
    shirt = catalog.product_create(
        actor=owner,
        shop=shop,
        data={
            "name": "纯棉T恤",
            "price": "59.00",
            "stock": 0,
            "category_id": tea.pk,
            "selling_points": ["新疆长绒棉", "不起球"],
            "shipping_template_id": template.pk,
        },
    )
    catalog.product_set_specs(
        actor=owner,
        product=shirt,
        specs=[{"name": "颜色", "values": ["白", "黑"]}, {"name": "尺码", "values": ["M", "L"]}],
    )
    catalog.sku_update_many(
        actor=owner,
        product=shirt,
        rows=[
            {
                "id": s.pk,
                "price": "69.00" if s.spec_values == ["黑", "L"] else "59.00",
                "stock": 0 if s.spec_values == ["白", "M"] else 5,
            }
            for s in shirt.skus.filter(is_active=True)
        ],
    )
    catalog.product_set_main_image(actor=owner, product=shirt, upload=image_upload(size=(900, 900)))
    catalog.product_add_image(actor=owner, product=shirt, upload=image_upload(color=(0, 90, 200)))
    catalog.product_set_status(actor=owner, product=shirt, status=ProductStatus.ON_SALE)
    catalog.featured_set(actor=owner, shop=shop, product_ids=[shirt.public_id] + [p.public_id for p in products[:5]])
    return {"tea": tea, "green": green, "shirt": shirt, "products": products}


def test_home_shows_featured_and_categories_within_six_queries(client, shop, catalogue, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        resp = client.get("/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "纯棉T恤" in html and "茶饮" in html
    assert html.index("纯棉T恤") < html.index("明前龙井0")  # featured first, in slot order


def test_product_page_within_four_queries_and_hides_cost(client, shop, catalogue, django_assert_max_num_queries):
    shirt = catalogue["shirt"]
    Sku.objects.filter(product=shirt).update(cost_price=1234)
    promotion_flags_warm(shop.pk)  # the steady state; a cold cache is measured below
    with django_assert_max_num_queries(4):
        resp = client.get(f"/p/{shirt.public_id}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    skus = json.loads(re.search(r'<script id="sku-data" type="application/json">(.*?)</script>', html, re.S)[1])
    assert {tuple(s["values"]) for s in skus} == {("白", "M"), ("白", "L"), ("黑", "M"), ("黑", "L")}
    assert "1234" not in html and "12.34" not in html
    assert "7-day no-reason returns" in html or "七天无理由" in html or "7天无理由" in html


def test_product_page_with_signed_in_shopper_stays_within_five(
    shopper_client, catalogue, django_assert_max_num_queries
):
    # The four of an anonymous visit, plus the cart badge's count.
    promotion_flags_warm(catalogue["shirt"].shop_id)
    with django_assert_max_num_queries(5):
        assert shopper_client.get(f"/p/{catalogue['shirt'].public_id}/").status_code == 200


def test_a_cold_promotion_cache_costs_one_query_per_promotion_kind(
    client, shop, catalogue, django_assert_max_num_queries
):
    # After a cache flush each promotion kind's panel asks once whether the shop runs it, then
    # the flags are cached (siyu/storefront/panels.py).
    with django_assert_max_num_queries(4 + promotion_flags_warm(0)):
        assert client.get(f"/p/{catalogue['shirt'].public_id}/").status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(f"/p/{catalogue['shirt'].public_id}/").status_code == 200


def test_draft_and_unknown_products_are_404(client, shop):
    draft = make_product(shop, status=ProductStatus.DRAFT)
    assert client.get(f"/p/{draft.public_id}/").status_code == 404
    assert client.get("/p/nope123/").status_code == 404


def test_category_includes_subcategories_and_search(client, shop, catalogue):
    resp = client.get(f"/c/{catalogue['tea'].pk}/")
    assert resp.status_code == 200 and "明前龙井3" in resp.content.decode()
    assert "纯棉T恤" in client.get("/search/?q=T恤").content.decode()
    assert "纯棉T恤" not in client.get("/search/?q=龙井").content.decode()
    assert client.get("/search/?q=%25%25%25" + "x" * 500).status_code == 200
    assert client.get("/c/999999/").status_code == 404


def test_category_list_query_count_is_constant(client, shop, catalogue, django_assert_num_queries):
    with django_assert_num_queries(4):  # shop, category, count, page
        client.get(f"/c/{catalogue['green'].pk}/")
    for i in range(15):
        make_product(shop, name=f"more{i}", category=catalogue["green"])
    with django_assert_num_queries(4):
        client.get(f"/c/{catalogue['green'].pk}/?page=2")


def test_share_page_and_poster_carry_the_sharers_code(shopper_client, shopper, catalogue):
    shirt = catalogue["shirt"]
    resp = shopper_client.get(f"/p/{shirt.public_id}/share/")
    html = resp.content.decode()
    assert f"?ref={shopper.share_code}" in html
    poster = shopper_client.get(f"/p/{shirt.public_id}/poster.png?ref={shopper.share_code}")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png"
    img = Image.open(io.BytesIO(poster.content))
    assert img.size == (750, 1100)
    assert shopper_client.get(f"/p/{shirt.public_id}/poster.png?ref=<script>").status_code == 404


def test_otp_sign_in_then_my_page(client, shop, django_capture_on_commit_callbacks):
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/login/", {"phone": "13912345678", "action": "send"})
    assert resp.status_code == 200
    phone, text = sms.outbox[-1]
    assert phone == "13912345678"
    code = re.search(r"\d{6}", text)[0]
    resp = client.post("/login/", {"phone": "13912345678", "code": code, "action": "login", "next": "/my/"})
    assert resp.status_code == 302 and resp["Location"] == "/my/"
    assert "139****5678" in client.get("/my/").content.decode()
    # the code is single-use
    client.post("/logout/")
    resp = client.post("/login/", {"phone": "13912345678", "code": code, "action": "login"})
    assert resp.status_code == 400
    assert Shopper.objects.count() == 1


def test_login_rejects_bad_phone_and_rate_limits(client, shop):
    assert client.post("/login/", {"phone": "12345", "action": "send"}).status_code == 400
    assert client.post("/login/", {"phone": "13912345678", "action": "send"}).status_code == 200
    assert client.post("/login/", {"phone": "13912345678", "action": "send"}).status_code == 429


def test_login_next_cannot_redirect_off_site(client, shop):
    html = client.get("/login/?next=https://evil.example/").content.decode()
    assert '<input type="hidden" name="next" value="/my/">' in html
    resp = client.post("/login/", {"phone": "139", "next": "https://evil.example/"})
    assert 'value="https://evil.example/"' not in resp.content.decode().split("<footer")[0]


def test_my_requires_sign_in(client, shop):
    resp = client.get("/my/")
    assert resp.status_code == 302 and resp["Location"].startswith("/login/")


def test_address_crud_and_isolation(shopper_client, shop, shopper):
    data = {
        "recipient": "张三",
        "phone": "13800138000",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "detail": "文三路 1 号",
    }
    assert shopper_client.post("/my/addresses/new/", data).status_code == 302
    address = Address.objects.get(shopper=shopper)
    assert address.is_default
    html = shopper_client.get("/my/addresses/").content.decode()
    assert "138****8000" in html and "文三路 1 号" in html
    resp = shopper_client.post("/my/addresses/new/", {**data, "phone": "bad"})
    assert resp.status_code == 400 and Address.objects.count() == 1
    # another shopper can neither see nor change it
    other = make_shopper()
    sign_in_shopper(shopper_client, other)
    assert shopper_client.get(f"/my/addresses/{address.public_id}/").status_code == 404
    assert shopper_client.post(f"/my/addresses/{address.public_id}/delete/").status_code == 404
    assert Address.objects.filter(pk=address.pk).exists()


def test_address_phone_and_detail_are_encrypted_at_rest(shopper_client, shop, shopper):
    from django.db import connection

    shopper_client.post(
        "/my/addresses/new/",
        {
            "recipient": "李四",
            "phone": "13700001111",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": "科技园 8 栋",
        },
    )
    with connection.cursor() as cur:
        cur.execute("SELECT phone, detail FROM accounts_address")
        phone, detail = cur.fetchone()
    assert "13700001111" not in phone and "科技园" not in detail


def test_other_shop_is_served_under_its_path_and_isolated(client, shop, other_shop, catalogue):
    theirs = make_product(other_shop, name="隔壁的茶")
    resp = client.get("/s/other/")
    html = resp.content.decode()
    assert resp.status_code == 200 and "隔壁的茶" in html and "纯棉T恤" not in html
    assert f'href="/s/other/p/{theirs.public_id}/"' in html
    assert client.get(f"/s/other/p/{catalogue['shirt'].public_id}/").status_code == 404
    assert client.get(f"/p/{theirs.public_id}/").status_code == 404
    assert client.get("/s/nosuchshop/").status_code == 404


def test_shop_served_on_its_own_host(client, shop, other_shop):
    other_shop.host = "tea.example.com"
    other_shop.save()
    make_product(other_shop, name="隔壁的茶")
    from django.test import override_settings

    with override_settings(ALLOWED_HOSTS=["tea.example.com", "testserver"]):
        assert "隔壁的茶" in client.get("/", HTTP_HOST="tea.example.com").content.decode()


def test_healthz(client, db):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json()["database"] == "ok"
