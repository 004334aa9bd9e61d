"""The Content-Security-Policy breaks nothing: pages run their scripts and styles in Chromium with
no violation reported, the API docs (Swagger UI) included."""

import pytest

from .test_storefront import live_shop  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def violations(phone_page):
    seen: list[str] = []
    phone_page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    phone_page.on("pageerror", lambda exc: seen.append(f"page error: {exc}"))
    return seen


def test_product_page_script_runs_under_the_policy(live_server, live_shop, phone_page, violations):  # noqa: F811
    page = phone_page
    response = page.goto(live_server.url + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator("a.card", has_text="纯棉圆领T恤").first.click()
    page.wait_for_selector("#sku-picker fieldset button")
    page.get_by_role("button", name="黑色").click()
    page.get_by_role("button", name="L", exact=True).click()
    # the translated words now come from data-* attributes instead of an inline script
    assert page.locator("#stock-state").inner_text() not in ("", "undefined")
    assert "undefined" not in page.locator("#chosen").inner_text()
    page.locator("#share").click()
    page.locator("#share-url").click()
    assert page.evaluate("() => document.activeElement.selectionEnd > 0")
    assert violations == []


def test_api_docs_render_under_the_policy(live_server, live_shop, phone_page, violations):  # noqa: F811
    page = phone_page
    page.goto(live_server.url + "/api/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    page.wait_for_selector(".opblock-tag", timeout=20000)
    assert violations == []


def test_console_bars_keep_their_width(live_server, live_shop, browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(live_server.url + "/console/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "password123")
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url("**/console/")
    page.goto(live_server.url + "/console/fission/")
    assert page.locator(".funnel .bar").count() > 0
    # Bar widths are classes now (w-0 … w-100), not style= attributes: one at 37% of a 200px track.
    width = page.evaluate(
        """() => {
            const track = document.createElement("div"); track.className = "bar-track"; track.style.width = "200px";
            const bar = document.createElement("div"); bar.className = "bar w-37"; track.appendChild(bar);
            document.body.appendChild(track); return bar.getBoundingClientRect().width;
        }"""
    )
    assert width == pytest.approx(74, abs=1)
    assert seen == []
    context.close()
