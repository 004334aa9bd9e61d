"""A shopper on a phone: sign in, claim a coupon in the coupon centre, buy a product with it
pre-selected at checkout, and see the coupon on the order."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import address_create
from siyu.promotions.coupons.models import CouponGrant, GrantStatus
from siyu.promotions.coupons.services import coupon_activate, coupon_create

from ..factories import ShopFactory, make_product, make_shopper, make_staff

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "13912345670"


@pytest.fixture
def coupon_shop():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    product = make_product(shop, name="明前龙井", price=12000, stock=20)
    coupon = coupon_create(
        actor=owner,
        shop=shop,
        data={
            "name": "满100减20",
            "kind": "amount_off",
            "amount_off": 2000,
            "min_spend": 10000,
            "valid_until": timezone.now() + timedelta(days=7),
        },
    )
    coupon_activate(actor=owner, coupon=coupon)
    shopper = make_shopper(PHONE)
    address_create(
        shop=shop,
        shopper=shopper,
        data={
            "recipient": "张三",
            "phone": PHONE,
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文三路 1 号",
        },
    )
    return product, coupon


def _sign_in(page, base: str, next_path: str) -> None:
    from siyu.accounts import sms

    page.goto(f"{base}/login/?next={next_path}")
    sms.outbox.clear()
    page.fill("#phone", PHONE)
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("button[value=login]").click()


def test_claim_in_the_centre_then_buy_with_it(live_server, coupon_shop, phone_page, screenshot_dir):
    product, coupon = coupon_shop
    page = phone_page
    _sign_in(page, live_server.url, "/coupons/")
    page.wait_for_url("**/coupons/")
    card = page.locator(f"#coupon-{coupon.public_id}")
    assert "满100减20" in card.inner_text()
    card.locator("button").click()  # 领取 (claim)
    page.wait_for_url("**/coupons/")
    assert page.locator(f"#coupon-{coupon.public_id} button").is_disabled()  # claimed: one per customer
    page.screenshot(path=str(screenshot_dir / "coupons-centre-claimed.png"), full_page=True)

    page.goto(f"{live_server.url}/p/{product.public_id}/")
    page.locator("#buy-now").click()
    page.wait_for_url("**/checkout/**")
    grant = CouponGrant.objects.get(coupon=coupon)
    chosen = page.locator("select#coupon option:checked")
    assert chosen.get_attribute("value") == grant.public_id
    assert "满100减20" in chosen.inner_text() and "20.00" in chosen.inner_text()  # its saving
    assert page.locator("#breakdown .adj-coupon").inner_text().endswith("-¥20.00")
    assert page.locator("#grand-total").inner_text() == "¥100.00"
    page.screenshot(path=str(screenshot_dir / "coupons-checkout.png"), full_page=True)

    page.locator("#place-order").click()
    page.wait_for_url("**/pay/")
    order_path = re.sub(r"pay/$", "", page.url)
    page.goto(order_path)
    coupon_line = page.locator(".totals .adj-coupon")
    assert "满100减20" in coupon_line.inner_text() and "-¥20.00" in coupon_line.inner_text()
    page.screenshot(path=str(screenshot_dir / "coupons-order.png"), full_page=True)
    grant.refresh_from_db()
    assert grant.status == GrantStatus.USED and grant.order is not None and grant.order.total == 10000
