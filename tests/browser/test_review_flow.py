"""A shopper with a received order writes a photo review from the order page and sees it, with its
photo in the 买家秀 strip, on the product page."""

import io
import re

import pytest
from PIL import Image

from siyu.accounts.services import address_create
from siyu.community.reviews.models import Review

from ..factories import ShopFactory, make_product, make_shopper, make_staff
from ..orders.helpers import deliver, place

pytestmark = pytest.mark.django_db(transaction=True)
PHONE = "13912345671"


@pytest.fixture
def received_order():
    shop = ShopFactory(slug="main", name="私域优选", is_default=True)
    owner = make_staff(shop, username="boss")
    product = make_product(shop, name="明前龙井", price=12000, stock=20)
    shopper = make_shopper(PHONE)
    address = address_create(
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
    order = place(shop, shopper, address, product)
    deliver(order, owner)
    return order


def _sign_in(page, base: str, next_path: str) -> None:
    from siyu.accounts import sms

    page.goto(f"{base}/login/?next={next_path}")
    sms.outbox.clear()
    page.fill("#phone", PHONE)
    page.locator("button[value=send]").click()
    page.wait_for_selector(".ok")
    page.fill("#code", re.search(r"\d{6}", sms.outbox[-1][1])[0])
    page.locator("button[value=login]").click()


def test_write_a_photo_review_and_see_it_on_the_product_page(
    live_server, received_order, phone_page, screenshot_dir, tmp_path
):
    page = phone_page
    order_path = f"/orders/{received_order.public_id}/"
    _sign_in(page, live_server.url, order_path)
    page.wait_for_url(f"**{order_path}")
    line = received_order.lines.get()
    page.locator(f"a[href$='/lines/{line.pk}/review/']").click()
    page.wait_for_selector("#review-form")
    photo = tmp_path / "tea.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (60, 140, 70)).save(buf, "JPEG")
    photo.write_bytes(buf.getvalue())
    page.locator("label[for=star4]").click()
    page.fill("#text", "茶香浓郁，包装很用心")
    page.set_input_files("#photos", str(photo))
    page.screenshot(path=str(screenshot_dir / "review-form.png"), full_page=True)
    page.locator("#review-submit").click()
    page.wait_for_url(f"**/p/{line.product.public_id}/")
    panel = page.locator("#reviews-panel")
    assert "茶香浓郁，包装很用心" in panel.inner_text()
    assert page.locator("#rating-average").inner_text() == "4.0"
    assert page.locator("#buyer-show img").count() == 1
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "review-product-page.png"), full_page=True)
    review = Review.objects.get()
    assert (review.rating, review.has_photos) == (4, True)
