"""Browser: shopper A starts a bargain; shopper B, in another browser, opens A's share link, signs
in with an SMS code, comes back and helps; A sees the cut. Screenshots under screenshots/."""

import re

import pytest

from siyu.promotions.bargains.campaigns import campaign_create
from siyu.promotions.bargains.models import Bargain
from tests.factories import ShopFactory, make_product, make_staff
from tests.promotions.bargains.conftest import campaign_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def bargain_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    item = make_product(shop, name="紫砂茶壶", price=9900, stock=20)
    campaign = campaign_create(
        actor=owner, shop=shop, data=campaign_data(item.skus.get(), floor_price=1990, helps_needed=3)
    )
    return shop, item, campaign


def _phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    return context, context.new_page()


def _sign_in(page, phone: str) -> None:
    """On the sign-in page: ask for a code, read it from the SMS outbox, sign in."""
    from siyu.accounts import sms

    sms.outbox.clear()
    page.fill("#phone", phone)
    page.locator("#send-code").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("#sign-in").click()


def test_start_share_sign_in_and_help(live_server, bargain_shop, browser, screenshot_dir):
    shop, item, campaign = bargain_shop
    a_context, a = _phone(browser)
    b_context, b = _phone(browser)
    try:
        a.goto(f"{live_server.url}/p/{item.public_id}/")
        a.locator("#bargain-start").click()  # not signed in: sign in first, then back to the product
        a.wait_for_url("**/login/**")
        _sign_in(a, "13911110001")
        a.wait_for_url(f"**/p/{item.public_id}/")
        assert "19.90" in a.locator("#bargain-panel").inner_text()
        a.locator("#bargain-start").click()
        a.wait_for_url("**/bargains/*/")
        share_url = a.locator("#bargain-url").input_value()
        assert "?ref=" in share_url
        a.screenshot(path=str(screenshot_dir / "bargain-started.png"), full_page=True)

        b.goto(share_url.replace("http://testserver", live_server.url))
        b.locator("#bargain-help").click()  # a link to sign in, coming back here
        b.wait_for_url("**/login/**")
        _sign_in(b, "13922220002")
        b.wait_for_url("**/bargains/*/")
        b.locator("#bargain-help").click()
        b.wait_for_selector("#bargain-helped")
        b.screenshot(path=str(screenshot_dir / "bargain-helped.png"), full_page=True)

        bargain = Bargain.objects.get(campaign=campaign)
        cut = bargain.cuts[0]
        a.reload()
        helpers = a.locator("#bargain-helpers").inner_text()
        assert f"{cut // 100}.{cut % 100:02d}" in helpers
        assert f"{(9900 - cut) // 100}.{(9900 - cut) % 100:02d}" in a.locator("#bargain-price").inner_text()
        a.screenshot(path=str(screenshot_dir / "bargain-starter-sees-cut.png"), full_page=True)
    finally:
        a_context.close()
        b_context.close()
