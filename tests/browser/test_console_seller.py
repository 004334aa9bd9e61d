"""A seller's day in the console, in headless Chromium at 1366×900 in Chinese: the full address for
a role that ships and the masked one for finance, the pick list and packing slip, the segment rule
builder producing a live count, ISO dates the date picker accepts, the phone reveal's redirect —
with a screenshot of each page and no English text and no CSP violation on any of them."""

import pytest

from siyu.accounts.roles import FINANCE
from siyu.customers.models import Customer

from ..console.customer_helpers import make_customer
from ..console.test_orders import make_address
from ..factories import ShopFactory, make_product, make_shopper, make_staff
from ..i18n_helpers import untranslated
from ..orders.helpers import pay, place

pytestmark = pytest.mark.django_db(transaction=True)

FULL_PHONE = "13712345678"
STREET = "文三路 1 号"


@pytest.fixture
def seller_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    make_staff(shop, username="boss")
    make_staff(shop, role=FINANCE, username="caiwu")
    tea = make_product(shop, name="龙井茶", price=5000, stock=50)
    buyer = make_shopper(FULL_PHONE)
    order = place(shop, buyer, make_address(shop, buyer, recipient="王小明", phone=FULL_PHONE), tea, quantity=2)
    pay(order)
    for spent in (80_00, 600_00, 900_00):
        make_customer(shop, name=f"客户{spent}", total_spent=spent)
    return {"shop": shop, "order": order}


@pytest.fixture
def desk(browser):
    """A console window: 1366×900, Chinese, collecting CSP violations and script errors."""
    contexts, problems = [], []

    def open_page(username: str, live_url: str):
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.goto(live_url + "/console/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "password123")
        page.locator("form.stack button[type=submit]").click()
        page.wait_for_url("**/console/")
        return page

    yield open_page, problems
    for context in contexts:
        context.close()


def _chinese_only(page):
    # The JSON editor under the rule builder (.rules-json) shows rules as the API takes them: its
    # keys and codes are JSON, not words. Everything else a person reads must be Chinese; the
    # staff's user names are data, and CSV/Logo are how Chinese sellers write them too.
    html = page.evaluate(
        """() => { const copy = document.documentElement.cloneNode(true);
                   copy.querySelectorAll('.rules-json').forEach(n => n.remove());
                   return copy.outerHTML; }"""
    )
    assert untranslated(html, allow={"EMS", "boss", "caiwu", "logo", "rfm", "csv"}) == [], page.url


def test_a_shipper_sees_the_full_address_and_finance_the_masked_one(live_server, seller_shop, desk, screenshot_dir):
    open_page, problems = desk
    order = seller_shop["order"]
    boss = open_page("boss", live_server.url)
    _chinese_only(boss)
    boss.screenshot(path=str(screenshot_dir / "console-dashboard.png"))

    boss.goto(f"{live_server.url}/console/orders/{order.public_id}/")
    ship_to = boss.locator(".ship-to")
    assert FULL_PHONE in ship_to.inner_text() and STREET in ship_to.inner_text() and "王小明" in ship_to.inner_text()
    assert boss.locator("select[name=carrier] option", has_text="顺丰速运").count() == 1
    _chinese_only(boss)
    boss.screenshot(path=str(screenshot_dir / "console-order-shipper.png"), full_page=True)

    boss.goto(f"{live_server.url}/console/orders/pick-list/")
    assert FULL_PHONE in boss.locator(f"[data-order='{order.number}']").inner_text()
    assert boss.locator("button[data-print]").is_visible()
    _chinese_only(boss)
    boss.screenshot(path=str(screenshot_dir / "console-pick-list.png"), full_page=True)
    boss.emulate_media(media="print")
    assert not boss.locator(".print-toolbar").is_visible()  # only the sheet is printed
    boss.emulate_media(media="screen")

    boss.goto(f"{live_server.url}/console/orders/{order.public_id}/packing-slip/")
    assert STREET in boss.locator("td.street").inner_text()
    _chinese_only(boss)
    boss.screenshot(path=str(screenshot_dir / "console-packing-slip.png"), full_page=True)

    finance = open_page("caiwu", live_server.url)
    finance.goto(f"{live_server.url}/console/orders/{order.public_id}/")
    masked = finance.locator(".ship-to").inner_text()
    assert "137****5678" in masked and FULL_PHONE not in masked and STREET not in masked and "王小明" not in masked
    _chinese_only(finance)
    finance.screenshot(path=str(screenshot_dir / "console-order-finance.png"), full_page=True)
    assert problems == []


def test_the_rule_builder_counts_as_the_rules_change(live_server, seller_shop, desk, screenshot_dir):
    open_page, problems = desk
    page = open_page("boss", live_server.url)
    page.goto(live_server.url + "/console/customers/segments/new/")
    page.wait_for_selector("#rule-builder .rule-row")
    # start from one empty condition: clear the example the page opens with
    while page.locator("#rule-builder .rule-row").count() > 0:
        page.locator("#rule-builder .rule-row button").first.click()
    while page.locator("#rule-builder .rule-group .rule-group").count() > 0:
        page.locator("#rule-builder .rule-group .rule-group .rule-group-head button").first.click()
    page.get_by_role("button", name="+ 条件", exact=True).first.click()
    row = page.locator("#rule-builder .rule-row").first
    row.locator("select.rule-field").select_option("total_spent")
    row = page.locator("#rule-builder .rule-row").first
    row.locator("select.rule-op").select_option(">=")
    row = page.locator("#rule-builder .rule-row").first
    row.locator("input").fill("500")
    count = page.locator("#live-count")
    page.wait_for_function("() => document.querySelector('#live-count').textContent.includes('有 2 位客户')")
    row.locator("input").fill("50")
    # the three imported customers' spend and the buyer's paid order, from ¥50 up
    expected = Customer.objects.filter(shop=seller_shop["shop"], total_spent__gte=50_00).count()
    assert expected > 2
    page.wait_for_function(f"() => document.querySelector('#live-count').textContent.includes('有 {expected} 位客户')")
    assert str(expected) in count.inner_text()
    # the JSON under the builder is what the form saves (and what the API takes)
    rules = page.locator("textarea[name=rules]").input_value()
    assert '"field": "total_spent"' in rules and '"value": "50"' in rules
    # an "or" group nested in the "and"
    page.get_by_role("button", name="+ 条件组", exact=True).first.click()
    assert page.locator("#rule-builder .rule-group .rule-group").count() == 1
    _chinese_only(page)
    page.screenshot(path=str(screenshot_dir / "console-segment-builder.png"), full_page=True)
    # an unfinished condition cannot be counted; removing the group makes the rules whole again
    page.wait_for_function("() => document.querySelector('#live-count').classList.contains('is-error')")
    page.locator("#rule-builder .rule-group .rule-group .rule-group-head button").click()
    page.wait_for_function(f"() => document.querySelector('#live-count').textContent.includes('有 {expected} 位客户')")
    page.fill("input[name=name]", "高消费")
    page.get_by_role("button", name="保存并计算").click()
    page.wait_for_url("**/console/customers/segments/")
    assert page.locator("table", has_text="高消费").count() == 1
    assert problems == []


def test_customer_page_dates_and_phone_reveal(live_server, seller_shop, desk, screenshot_dir):
    open_page, problems = desk
    customer = Customer.objects.filter(shop=seller_shop["shop"]).order_by("id").first()
    page = open_page("boss", live_server.url)
    url = f"{live_server.url}/console/customers/{customer.public_id}/"
    page.goto(url)
    # Chromium shows the follow-up date only when the value is ISO (2026/12/08 left it empty)
    due = page.locator("input[name=due_on]")
    assert due.input_value() and "-" in due.input_value()
    page.locator("form[action$='/reveal/'] button").click()
    page.wait_for_url(url)  # post/redirect/get: back on the customer page, not on /reveal/
    assert customer.phone in page.content()
    page.reload()
    assert customer.phone not in page.content()
    _chinese_only(page)
    page.goto(live_server.url + "/console/customers/")
    _chinese_only(page)
    page.screenshot(path=str(screenshot_dir / "console-customers.png"))
    assert problems == []
