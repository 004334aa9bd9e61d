"""What a shopper sees on a 390×844 phone (issue 10): a square first image with the price and title
on the first screen, the cart tab and its badge, the 省/市/区 picker, the sign-in countdown and
consent line, the shop's 404 page — and no English on any of these Chinese pages."""

import re

import pytest

from siyu.catalog import services as catalog

from ..factories import image_upload
from ..i18n_helpers import untranslated
from .test_storefront import live_shop  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)

DATA = {"T恤"}  # test data in Latin letters (sizes M and L are single letters)


@pytest.fixture
def two_images(live_shop):  # noqa: F811
    shirt = live_shop.products.get(name="纯棉圆领T恤")
    owner = live_shop.staff.first()
    catalog.product_add_image(actor=owner, product=shirt, upload=image_upload(size=(800, 600), color=(0, 90, 200)))
    return live_shop


@pytest.fixture
def csp_violations(phone_page):
    """Script errors and Content-Security-Policy refusals seen while the test drives the pages."""
    seen: list[str] = []
    phone_page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    phone_page.on("pageerror", lambda exc: seen.append(f"page error: {exc}"))
    return seen


def _reads_chinese(page) -> None:
    assert untranslated(page.content(), allow=DATA) == []


def _sign_in(page, base_url: str) -> None:
    from siyu.accounts import sms

    page.goto(base_url + "/login/")
    sms.outbox.clear()
    page.fill("#phone", "13912345678")
    page.locator("#send-code").click()
    page.wait_for_selector(".ok")
    code = re.search(r"\d{6}", sms.outbox[-1][1])[0]
    page.fill("#code", code)
    page.locator("#sign-in").click()
    page.wait_for_url("**/my/")


def test_product_first_screen_gallery_and_cart_badge(
    live_server, two_images, phone_page, screenshot_dir, csp_violations
):
    page = phone_page
    _sign_in(page, live_server.url)
    page.goto(live_server.url + "/")
    assert page.locator("#tab-cart").inner_text().strip().startswith("购物车")
    assert page.locator("#cart-badge").count() == 0  # an empty cart shows no badge
    page.locator("a.card", has_text="纯棉圆领T恤").first.click()
    page.wait_for_selector("#sku-picker fieldset button")

    first = page.locator("#gallery-track img").first.bounding_box()
    assert abs(first["width"] - 390) <= 1 and abs(first["height"] - first["width"]) <= 1  # square, full width
    bar = page.locator("#buybar").bounding_box()
    for what in ("#price", ".pbody h1"):
        box = page.locator(what).bounding_box()
        assert box["y"] + box["height"] <= bar["y"], f"{what} is below the first screen"
    assert page.locator("#gallery-count").inner_text() == "1/2"
    page.locator("#gallery-track").evaluate("t => t.scrollTo({left: t.clientWidth})")
    page.wait_for_function("() => document.getElementById('gallery-count').textContent === '2/2'")
    page.locator("#gallery-track").evaluate("t => t.scrollTo({left: 0})")
    page.wait_for_function("() => document.getElementById('gallery-count').textContent === '1/2'")
    _reads_chinese(page)
    page.screenshot(path=str(screenshot_dir / "shopper-product.png"))

    page.get_by_role("button", name="白色").click()
    page.get_by_role("button", name="M", exact=True).click()
    page.locator("[data-step='1']").click()  # quantity 2
    page.locator("#add-to-cart").click()
    page.wait_for_selector(".flash-go")
    assert page.locator(".flash-go").inner_text().startswith("去结算")
    assert page.locator("#bar-cart-badge").inner_text() == "2"

    page.locator(".flash-go").click()
    page.wait_for_url("**/cart/")
    assert page.locator("#cart-badge").inner_text() == "2"
    assert page.locator(".cart-line .qty-value").inner_text() == "2"
    stepper = page.locator(".cart-line .stepper").bounding_box()
    assert stepper["height"] < 40  # − 2 + on one row, never wrapped
    page.locator(".cart-line button.step[value='3']").click()
    page.wait_for_function("() => document.querySelector('.cart-line .qty-value').textContent.trim() === '3'")
    assert page.locator("#cart-total").inner_text() == "¥177.00"
    page.locator(".cart-line input.pick").uncheck()
    assert page.locator("#to-checkout").is_disabled() and page.locator("#cart-total").inner_text() == "¥0.00"
    page.locator(".cart-line input.pick").check()
    _reads_chinese(page)
    page.screenshot(path=str(screenshot_dir / "shopper-cart.png"))
    assert csp_violations == []


def test_address_picker_sign_in_consent_and_404(
    live_server,
    live_shop,  # noqa: F811
    phone_page,
    screenshot_dir,
    csp_violations,
):
    from siyu.accounts import sms

    page = phone_page
    page.goto(live_server.url + "/login/")
    assert "《用户协议》" in page.locator("#consent").inner_text()
    assert page.locator("#consent a", has_text="隐私政策").get_attribute("href") == "/privacy-policy/"
    sms.outbox.clear()
    page.fill("#phone", "13912345678")
    page.locator("#send-code").click()
    page.wait_for_selector(".ok")
    assert page.locator("#send-code").is_disabled()
    assert re.fullmatch(r"\d+ 秒后重新获取", page.locator("#send-code").inner_text())
    _reads_chinese(page)
    page.screenshot(path=str(screenshot_dir / "shopper-sign-in.png"))
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("#sign-in").click()
    page.wait_for_url("**/my/")
    page.goto(live_server.url + "/privacy-policy/")
    assert "私域优选隐私政策" in page.locator("h1").inner_text()
    _reads_chinese(page)
    page.goto(live_server.url + "/my/addresses/new/")
    page.select_option("#province", "北京市")
    page.wait_for_function("() => document.getElementById('city').value === '北京市'")  # the only city, taken
    page.select_option("#district", "朝阳区")
    page.fill("#recipient", "李四")
    page.fill("#aphone", "13912345678")
    page.fill("#detail", "建国路 1 号")
    _reads_chinese(page)
    page.screenshot(path=str(screenshot_dir / "shopper-address.png"))
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/my/addresses/")
    assert "北京市 北京市 朝阳区" in page.locator(".addresses").inner_text()

    response = page.goto(live_server.url + "/no-such-page/")
    assert response.status == 404
    assert page.locator("#go-home").inner_text() == "回到店铺首页"
    _reads_chinese(page)
    page.screenshot(path=str(screenshot_dir / "shopper-404.png"))
    assert csp_violations == []
