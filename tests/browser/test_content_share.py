"""A promoter on a phone opens today's posts, taps "Copy text" (the text and the link with their
share code land on the clipboard) and "Save images", under the strict CSP; each tap is counted as
a share of the post."""

import re
import time

import pytest

from siyu.community.content.models import PostShare
from siyu.community.content.services import post_create

from ..community.content.conftest import jpeg, today_at
from ..factories import ShopFactory, make_shopper, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "13912345672"


@pytest.fixture
def content_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    post = post_create(
        actor=owner, shop=shop, data={"text": "中秋礼盒今天上新", "publish_at": today_at(0, 1)}, images=[jpeg()]
    )
    return post, make_shopper(PHONE)


def _sign_in(page, base: str, next_path: str) -> None:
    from siyu.accounts import sms

    page.goto(f"{base}/login/?next={next_path}")
    sms.outbox.clear()
    page.fill("#phone", PHONE)
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("button[value=login]").click()


def _shares(kind: str, want: int) -> int:
    for _ in range(50):  # the tap's POST is sent in the background
        found = PostShare.objects.filter(kind=kind).count()
        if found >= want:
            return found
        time.sleep(0.1)
    return PostShare.objects.filter(kind=kind).count()


def test_copy_and_save_a_post(live_server, content_shop, browser, screenshot_dir):
    post, shopper = content_shop
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN", accept_downloads=True
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        _sign_in(page, live_server.url, "/m/today/")
        page.wait_for_url("**/m/today/")
        card = page.locator(f"#post-{post.code}")
        link = card.locator("input.content-link").input_value()
        assert link.endswith(f"/m/{post.code}/?ref={shopper.share_code}")
        card.locator("[data-content-copy]").click()
        page.wait_for_function("() => document.querySelector('.content-status').textContent.length > 0")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied.startswith("中秋礼盒今天上新") and copied.endswith(link)
        assert _shares("copy", 1) == 1
        with page.expect_download():
            card.locator("[data-content-save]").click()
        assert _shares("save", 1) == 1
        page.screenshot(path=str(screenshot_dir / "content-today.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
