"""A seller runs a campaign and sees what it caused: in the console they create a campaign for a
segment with a 20% control group and two variants, start it; the worker sends through the log
channel; a recipient follows the tracked link from the message, signs in and buys; the results page
shows the order under the variant that recipient was dealt, and nothing under the other groups."""

import re

import pytest

from siyu.accounts.services import address_create
from siyu.campaigns.channels.backends import simple
from siyu.campaigns.outreach.models import Campaign, CampaignRecipient
from siyu.customers.segments import segment_save

from ..campaigns.outreach.conftest import CITY, channels_on, make_pool
from ..factories import ShopFactory, make_product, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def campaign_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    channels_on(shop, cost=5)
    pool = make_pool(shop, 12)
    segment = segment_save(actor=owner, shop=shop, name="杭州老客", rules=CITY)
    product = make_product(shop, name="明前龙井", price=12000, stock=20)
    return shop, pool, segment, product


def _console(browser, base: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(base + "/console/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "password123")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/console/")
    return context, page


def _sign_in_and_buy(page, base: str, link: str, phone: str) -> None:
    from siyu.accounts import sms

    page.goto(link)  # the tracked link from the message: records the click, opens the product
    page.wait_for_selector("#buy-now")
    page.locator("#buy-now").click()
    page.wait_for_url("**/login/**")
    sms.outbox.clear()
    page.fill("#phone", phone)
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("button[value=login]").click()
    page.wait_for_url("**/checkout/**")
    page.locator("#place-order").click()
    page.wait_for_url("**/pay/")
    page.locator("#pay-sandbox").click()
    page.wait_for_url("**/pay/sandbox/**")
    page.locator("#sandbox-confirm").click()
    page.wait_for_url("**/orders/**")
    assert page.locator("#order-status").inner_text() == "已支付"


def test_campaign_from_console_to_attributed_order(live_server, campaign_shop, browser, phone_page, screenshot_dir):
    shop, pool, segment, product = campaign_shop
    base = live_server.url
    simple.outbox.clear()
    context, page = _console(browser, base)
    try:
        page.goto(base + "/console/campaigns/new/")
        page.fill("#id_name", "龙井上新")
        page.select_option("#id_segment", str(segment.pk))
        page.select_option("#id_channel", "log")
        page.fill("#id_holdout_percent", "20")
        page.fill("#id_text_a", "{name}，明前龙井到了 {link}")
        page.fill("#id_text_b", "{name}，老客尝鲜价 {link}")
        page.select_option("#id_target", "product")
        page.fill("#id_target_ref", product.public_id)
        page.locator("form.stack button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/console/campaigns/[a-z0-9]+/$"))
        campaign = Campaign.objects.get(shop=shop, name="龙井上新")
        assert campaign.status == "draft" and campaign.holdout_bp == 2000
        assert page.locator(".badge-draft").count() == 1

        # Start: the test worker prepares and sends at once, through the log channel.
        page.get_by_role("button", name="开始").click()
        page.wait_for_url(f"**/console/campaigns/{campaign.public_id}/")
        campaign.refresh_from_db()
        assert campaign.status == "done" and campaign.prepared == len(pool)
        assert campaign.sent == len(pool) - campaign.control
        rows = CampaignRecipient.objects.filter(campaign=campaign).select_related("customer", "variant")
        treated = [r for r in rows if r.variant is not None]
        control_ids = {r.customer.public_id for r in rows if r.variant is None}
        sent_to = {address for address, _text in simple.outbox}
        assert sent_to == {r.customer.public_id for r in treated} and not sent_to & control_ids
        page.screenshot(path=str(screenshot_dir / "campaign-started.png"), full_page=True)

        # A recipient reads the message, follows its link and buys.
        buyer = treated[0]
        (text,) = [t for address, t in simple.outbox if address == buyer.customer.public_id]
        link = re.search(r"https?://[^/\s]+(/go/[A-Za-z0-9_-]+/)", text)
        assert link is not None, text
        url = base + link[1]  # the message names the public host; the test serves here
        phone = buyer.customer.phone
        address_create(
            shop=shop,
            shopper=buyer.customer.shopper,
            data={
                "recipient": "张三",
                "phone": phone,
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "detail": "文三路 1 号",
            },
        )
        _sign_in_and_buy(phone_page, base, url, phone)
        buyer.refresh_from_db()
        assert buyer.clicks == 1 and buyer.first_clicked_at is not None

        # The results page: the order under the buyer's variant, none elsewhere.
        page.goto(f"{base}/console/campaigns/{campaign.public_id}/")
        letter = buyer.variant.letter
        other = "B" if letter == "A" else "A"
        cells = page.locator(f"tr[data-group='{letter}'] td")
        assert cells.nth(2).inner_text() == "1"  # clicked
        assert cells.nth(3).inner_text() == "1"  # ordered
        assert page.locator(f"tr[data-group='{other}'] td").nth(3).inner_text() == "0"
        assert page.locator("tr[data-group='control'] td").nth(3).inner_text() == "0"
        assert page.locator("tr[data-group='treatment'] td").nth(3).inner_text() == "1"
        assert cells.nth(4).inner_text() == "¥120.00"  # the revenue
        page.screenshot(path=str(screenshot_dir / "campaign-results.png"), full_page=True)
    finally:
        context.close()
