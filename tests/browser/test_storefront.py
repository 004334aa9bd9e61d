"""Drives the storefront in headless Chromium like a shopper on a phone."""

import pytest

from siyu.catalog import services as catalog
from siyu.catalog.models import ProductStatus

from ..factories import CategoryFactory, ShopFactory, image_upload, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_shop():
    shop = ShopFactory(slug="main", name="私域优选", slogan="好物分享给朋友", is_default=True)
    owner = make_staff(shop, username="boss")
    cat = CategoryFactory(shop=shop, name="服饰")
    shirt = catalog.product_create(
        actor=owner,
        shop=shop,
        data={"name": "纯棉圆领T恤", "price": "59.00", "category_id": cat.pk, "selling_points": ["新疆长绒棉"]},
    )
    catalog.product_set_specs(
        actor=owner,
        product=shirt,
        specs=[{"name": "颜色", "values": ["白色", "黑色"]}, {"name": "尺码", "values": ["M", "L"]}],
    )
    rows = []
    for sku in shirt.skus.filter(is_active=True):
        black_l = sku.spec_values == ["黑色", "L"]
        rows.append({"id": sku.pk, "price": "69.00" if black_l else "59.00", "stock": 3 if black_l else 20})
    catalog.sku_update_many(actor=owner, product=shirt, rows=rows)
    catalog.product_set_main_image(actor=owner, product=shirt, upload=image_upload(size=(800, 800), color=(30, 30, 30)))
    catalog.product_set_status(actor=owner, product=shirt, status=ProductStatus.ON_SALE)
    catalog.featured_set(actor=owner, shop=shop, product_ids=[shirt.public_id])
    return shop


def test_home_product_pick_sku(live_server, live_shop, phone_page, screenshot_dir):
    page = phone_page
    page.goto(live_server.url + "/")
    assert page.locator(".banner h1").inner_text() == "私域优选"
    page.screenshot(path=str(screenshot_dir / "storefront-home.png"))

    page.locator("a.card", has_text="纯棉圆领T恤").first.click()
    page.wait_for_selector("#sku-picker")
    assert "59.00" in page.locator("#price").inner_text()

    page.get_by_role("button", name="黑色").click()
    page.get_by_role("button", name="L", exact=True).click()
    assert page.locator("#price").inner_text() == "¥69.00"
    assert "3" in page.locator("#stock-state").inner_text()
    assert page.locator("#sku-id").input_value() != ""
    assert "黑色 / L" in page.locator("#chosen").inner_text()
    page.screenshot(path=str(screenshot_dir / "storefront-product.png"), full_page=True)

    page.locator("#share").click()
    page.wait_for_function("() => { const i = document.querySelector('img.poster'); return i && i.complete; }")
    assert page.evaluate("() => document.querySelector('img.poster').naturalWidth") == 750
    assert "?ref=" not in page.locator("#share-url").input_value()  # an anonymous visitor has no code


def test_buy_pay_with_sandbox_and_see_paid(live_server, live_shop, phone_page, screenshot_dir):
    """home → product → SKU → buy now → sign in by SMS code → address → place order → sandbox pay → paid."""
    import re

    from siyu.accounts import sms

    page = phone_page
    page.goto(live_server.url + "/")
    page.locator("a.card", has_text="纯棉圆领T恤").first.click()
    page.get_by_role("button", name="白色").click()
    page.get_by_role("button", name="M", exact=True).click()
    page.locator("#buy-now").click()

    page.wait_for_url("**/login/**")
    sms.outbox.clear()
    page.fill("#phone", "13912345678")
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    code = re.search(r"\d{6}", sms.outbox[-1][1])[0]
    page.fill("#code", code)
    page.locator("button[value=login]").click()

    page.wait_for_url("**/checkout/**")
    page.get_by_role("link", name="新增地址").click()
    page.fill("#recipient", "张三")
    page.fill("#aphone", "13912345678")
    # 省/市/区 are a picker: each choice fills the next list (region.js)
    page.select_option("#province", "浙江省")
    page.wait_for_selector("#city option[value='杭州市']", state="attached")
    page.select_option("#city", "杭州市")
    page.wait_for_selector("#district option[value='西湖区']", state="attached")
    page.select_option("#district", "西湖区")
    page.fill("#detail", "文三路 1 号")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/checkout/**")
    assert page.locator("#grand-total").inner_text() == "¥59.00"
    page.screenshot(path=str(screenshot_dir / "storefront-checkout.png"))
    page.locator("#place-order").click()

    page.wait_for_url("**/pay/")
    page.locator("#pay-sandbox").click()
    page.wait_for_url("**/pay/sandbox/**")
    page.locator("#sandbox-confirm").click()
    page.wait_for_url("**/orders/**")
    assert page.locator("#order-status").inner_text() == "已支付"
    page.screenshot(path=str(screenshot_dir / "storefront-order-paid.png"), full_page=True)
