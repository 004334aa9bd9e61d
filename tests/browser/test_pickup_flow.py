"""A shopper on a phone chooses pickup (自提) at checkout instead of delivery, pays no postage,
pays (sandbox) and sees the pickup code and its QR image on the order page."""

import re

import pytest

from siyu.orders.pickup.models import PickupOrder
from siyu.orders.pickup.points import pickup_point_create

from ..factories import ShippingTemplateFactory, ShopFactory, make_product, make_shopper, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "13912345671"


@pytest.fixture
def pickup_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    template = ShippingTemplateFactory(shop=shop)  # 8 yuan postage under 99
    product = make_product(shop, name="土鸡蛋", price=3000, stock=20, shipping_template=template)
    point = pickup_point_create(
        actor=owner,
        shop=shop,
        data={
            "name": "西湖团长点",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 8 号",
            "hours": "每天 9:00-20:00",
        },
    )
    make_shopper(PHONE)
    return product, point


def _sign_in(page, base: str, next_path: str) -> None:
    from siyu.accounts import sms

    page.goto(f"{base}/login/?next={next_path}")
    sms.outbox.clear()
    page.fill("#phone", PHONE)
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("button[value=login]").click()


def test_choose_pickup_and_see_the_code(live_server, pickup_shop, phone_page, screenshot_dir):
    product, point = pickup_shop
    page = phone_page
    _sign_in(page, live_server.url, f"/p/{product.public_id}/")
    page.wait_for_url(f"**/p/{product.public_id}/")
    page.locator("#buy-now").click()
    page.wait_for_url("**/checkout/**")
    assert page.locator("#place-order").is_disabled()  # no address yet
    page.locator("input[name=fulfil][value=pickup]").check()
    page.wait_for_selector(f"input[name=pickup_point][value='{point.public_id}']:checked")
    assert "西湖团长点" in page.locator("#fulfil-choice").inner_text()
    assert page.locator("#postage-line span").last.inner_text() == "¥0.00"
    assert page.locator("#grand-total").inner_text() == "¥30.00"
    page.screenshot(path=str(screenshot_dir / "pickup-checkout.png"), full_page=True)

    page.locator("#place-order").click()
    page.wait_for_url("**/pay/")
    page.locator("#pay-sandbox").click()
    page.wait_for_url("**/pay/sandbox/**")
    page.locator("#sandbox-confirm").click()
    page.wait_for_selector("#pickup-code-text")
    entry = PickupOrder.objects.get(point=point)
    assert page.locator("#pickup-code-text").inner_text() == entry.code
    qr = page.locator("#pickup-code img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    page.screenshot(path=str(screenshot_dir / "pickup-order-code.png"), full_page=True)
    assert entry.order.shipping_fee == 0 and entry.order.total == 3000
