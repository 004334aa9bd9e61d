"""The dashboard and the analytics pages in headless Chromium: the charts are drawn (inline SVG with
a size), nothing breaks the Content-Security-Policy, and a phone-width page scrolls its tables
rather than the whole page. Screenshots of each."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ..analytics.dash_data import build, make_paid_order
from ..factories import ShopFactory, make_shopper, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
PAGES = {
    "trends": "/console/analytics/?start=2024-01-01&end=2024-03-31&grain=week",
    "funnel": "/console/analytics/funnel/?start=2024-01-01&end=2024-03-31&grain=month",
    "profit": "/console/analytics/profit/?base_start=2024-01-01&base_end=2024-01-31&start=2024-02-01&end=2024-02-29",
    "cohorts": "/console/analytics/cohorts/?start=2024-01-01&end=2024-03-31",
    "repurchase": "/console/analytics/repurchase/?start=2024-01-01&end=2024-03-31",
}


@pytest.fixture
def busy_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    make_staff(shop, username="boss")
    world = build(shop)
    today = timezone.localdate()
    for i in range(20):  # recent sales, so the dashboard's 30-day charts have a shape
        buyer = make_shopper()
        make_paid_order(shop, buyer, today - timedelta(days=i), [(world.x, 1 + i % 3)])
        if i % 2:
            make_paid_order(shop, buyer, today - timedelta(days=i // 2), [(world.z, 1)])
    return shop


def _sign_in(browser, live_url: str, viewport: dict, problems: list):
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.goto(live_url + "/console/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "password123")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/console/")
    return context, page


def _charts_drawn(page, at_least: int) -> None:
    sizes = page.eval_on_selector_all("svg.chart", "nodes => nodes.map(n => n.getBoundingClientRect().width)")
    assert len(sizes) >= at_least and all(width > 50 for width in sizes), (page.url, sizes)


def test_dashboard_and_analytics_pages_draw_their_charts(live_server, busy_shop, browser, screenshot_dir):
    problems: list[str] = []
    context, page = _sign_in(browser, live_server.url, {"width": 1366, "height": 900}, problems)
    _charts_drawn(page, 2)
    page.screenshot(path=str(screenshot_dir / "console-dashboard-charts.png"), full_page=True)
    for name, url in PAGES.items():
        page.goto(live_server.url + url)
        _charts_drawn(page, 1)
        page.screenshot(path=str(screenshot_dir / f"console-analytics-{name}.png"), full_page=True)
    page.goto(live_server.url + PAGES["funnel"])
    page.locator("details.table-view summary").nth(1).click()  # the table view opens under the chart
    assert page.locator("details.table-view").nth(1).locator("table").is_visible()
    context.close()
    assert problems == []


def test_analytics_on_a_phone(live_server, busy_shop, browser, screenshot_dir):
    problems: list[str] = []
    context, page = _sign_in(browser, live_server.url, {"width": 390, "height": 844}, problems)
    for name in ("trends", "cohorts"):
        page.goto(live_server.url + PAGES[name])
        _charts_drawn(page, 1)
        page_width = page.evaluate("document.documentElement.scrollWidth")
        assert page_width <= 400, (name, page_width)  # wide tables and heatmaps scroll inside their card
        page.screenshot(path=str(screenshot_dir / f"console-analytics-{name}-phone.png"), full_page=True)
    context.close()
    assert problems == []
