"""Review pages: the product panel's query budget, the all-reviews page, writing a review from the
order, the console list (queries at two sizes), actions and settings."""

import re

import pytest
from django.urls import reverse

from siyu.community.reviews import services
from siyu.community.reviews.models import Review
from siyu.community.reviews.selectors import product_review_summary
from siyu.storefront.panels_reviews import product_panel
from tests.promotion_flags import promotion_flags_warm

from .conftest import jpeg, make_review, more_lines

pytestmark = pytest.mark.django_db


def test_panel_costs_nothing_when_the_shop_has_no_reviews(rf, shop, product, django_assert_num_queries):
    request = rf.get("/")
    request.shop = shop
    with django_assert_num_queries(1):  # a cold cache asks once
        assert product_panel(request, product) is None
    with django_assert_num_queries(0):
        assert product_panel(request, product) is None


@pytest.mark.parametrize("n", [2, 12])
def test_panel_costs_one_query_with_reviews(rf, delivered, shop, n, django_assert_num_queries):
    for line in [delivered, *more_lines(delivered, n - 1)]:
        make_review(line, text="好")
    request = rf.get("/")
    request.shop = shop
    product_panel(request, delivered.product)  # warm the flag
    with django_assert_num_queries(1):
        panel = product_panel(request, delivered.product)
        assert panel.context["summary"].count == n and len(panel.context["summary"].reviews) == min(n, 6)


def test_product_page_shows_rating_photos_first_and_replies(client, delivered, shop, owner):
    lines = [delivered, *more_lines(delivered, 2)]
    make_review(lines[0], rating=3, text="一般般")
    photo = make_review(lines[1], rating=5, text="有图有真相", photos=[jpeg()])
    make_review(lines[2], rating=4, text="最新的")
    services.review_reply(actor=owner, shop=shop, public_id=photo.public_id, text="谢谢亲")
    promotion_flags_warm(shop.pk)
    resp = client.get(f"/p/{delivered.product.public_id}/")
    html = resp.content.decode()
    assert 'id="reviews-panel"' in html and 'id="buyer-show"' in html
    assert html.index("有图有真相") < html.index("最新的") < html.index("一般般")
    assert "谢谢亲" in html and ">4.0<" in html


def test_product_page_budget_unchanged_with_reviews(client, delivered, shop, django_assert_max_num_queries):
    make_review(delivered, text="好")
    promotion_flags_warm(shop.pk)
    url = f"/p/{delivered.product.public_id}/"
    # the storefront product page's 4 (tests/storefront/test_pages.py) plus the panel's one
    with django_assert_max_num_queries(5):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("n", [3, 15])
def test_all_reviews_page_queries_and_filters(client, delivered, shop, shopper, n, django_assert_num_queries):
    lines = [delivered, *more_lines(delivered, n - 1)]
    first = make_review(lines[0], text="带图", photos=[jpeg()])
    for line in lines[1:]:
        make_review(line, text="纯文字")
    services.review_followup(shop=shop, shopper=shopper, public_id=first.public_id, text="追评内容")
    promotion_flags_warm(shop.pk)
    url = reverse("storefront:product_reviews", args=[delivered.product.public_id])
    with django_assert_num_queries(5):  # shop, product, count, page, tab counts
        resp = client.get(url)
    assert resp.status_code == 200 and resp.content.decode().count('class="review') >= min(n, 10)
    photos = client.get(url + "?show=photos").content.decode()
    assert "带图" in photos and "纯文字" not in photos
    assert "追评内容" in client.get(url + "?show=followups").content.decode()
    assert client.get(url + "?show=bogus&page=999").status_code == 200
    assert client.get("/p/nope/reviews/").status_code == 404


def test_write_a_review_from_the_order_page(shopper_client, delivered):
    order = delivered.order
    detail = shopper_client.get(reverse("storefront:order", args=[order.public_id])).content.decode()
    url = reverse("storefront:line_review", args=[order.public_id, delivered.pk])
    assert url in detail
    assert 'id="review-form"' in shopper_client.get(url).content.decode()
    resp = shopper_client.post(url, {"rating": "4", "text": "很满意", "photos": [jpeg()], "anonymous": "1"})
    assert resp.status_code == 302 and resp["Location"].endswith(f"/p/{delivered.product.public_id}/")
    review = Review.objects.get()
    assert (review.rating, review.anonymous, review.has_photos) == (4, True, True)
    page = shopper_client.get(url).content.decode()
    assert 'id="followup-form"' in page
    shopper_client.post(url, {"text": "追加一句"})
    review.refresh_from_db()
    assert review.followup_text == "追加一句"
    bad = shopper_client.post(url, {"text": "再来"})
    assert bad.status_code == 409


def test_review_page_of_someone_elses_line_is_404(client, delivered):
    from tests.factories import make_shopper, sign_in_shopper

    sign_in_shopper(client, make_shopper("13900000009"))
    url = reverse("storefront:line_review", args=[delivered.order.public_id, delivered.pk])
    assert client.get(url).status_code == 404


def test_my_reviews_lists_waiting_and_written(shopper_client, delivered):
    url = reverse("storefront:my_reviews")
    assert delivered.product_name in shopper_client.get(url).content.decode()
    make_review(delivered, text="写好了")
    html = shopper_client.get(url).content.decode()
    assert "写好了" in html


@pytest.mark.parametrize("n", [5, 30])
def test_console_list_queries_at_two_sizes(staff_client, delivered, n, django_assert_num_queries):
    for line in [delivered, *more_lines(delivered, n - 1)]:
        make_review(line, text="好评", photos=[])
    # session, user, staff, count, page
    with django_assert_num_queries(5):
        resp = staff_client.get(reverse("console:reviews"))
    assert resp.status_code == 200
    assert resp.content.decode().count('<tr id="review-') == min(n, 20)


def test_console_filters_and_actions(staff_client, delivered, shop):
    lines = [delivered, *more_lines(delivered, 1)]
    low = make_review(lines[0], rating=1, text="差评")
    make_review(lines[1], rating=5, text="好评", photos=[jpeg()])
    url = reverse("console:reviews")
    html = staff_client.get(url + "?rating=1").content.decode()
    assert "差评" in html and "好评" not in html
    assert "差评" not in staff_client.get(url + "?photos=1").content.decode()
    action = reverse("console:review_action", args=[low.public_id])
    staff_client.post(action, {"action": "reply", "text": "抱歉，已联系您"})
    staff_client.post(action, {"action": "hide", "reason": "恶意差评"})
    staff_client.post(action, {"action": "feature"})
    low.refresh_from_db()
    assert low.reply_text == "抱歉，已联系您" and low.is_hidden and low.hidden_reason == "恶意差评" and low.is_featured
    assert "差评" in staff_client.get(url + "?hidden=1").content.decode()
    assert "差评" not in staff_client.get(url + "?needs_reply=1").content.decode()
    resp = staff_client.post(action, {"action": "hide", "reason": "again"})
    assert resp.status_code == 302  # a 409 comes back as a message on the list
    assert staff_client.post(reverse("console:review_action", args=["nope"]), {"action": "unhide"}).status_code == 404


def test_console_settings_page(staff_client, shop):
    url = reverse("console:review_settings")
    assert staff_client.get(url).status_code == 200
    resp = staff_client.post(url, {"photo_points": "30", "sensitive_words": "垃圾\n骗子"})
    assert resp.status_code == 302
    from siyu.community.reviews.models import ReviewSettings

    row = ReviewSettings.objects.get(shop=shop)
    assert (row.photo_points, row.sensitive_words) == (30, ["垃圾", "骗子"])
    assert staff_client.post(url, {"photo_points": "-1"}).status_code == 400


def test_service_staff_may_reply_but_not_change_settings(client, delivered, shop):
    from siyu.accounts.roles import SERVICE
    from tests.factories import make_staff

    review = make_review(delivered)
    client.force_login(make_staff(shop, role=SERVICE, username="kefu").user)
    client.post(reverse("console:review_action", args=[review.public_id]), {"action": "reply", "text": "您好"})
    review.refresh_from_db()
    assert review.reply_text == "您好"
    assert client.post(reverse("console:review_settings"), {"photo_points": "5"}).status_code == 403


def test_summary_shows_masked_words_on_the_page(client, delivered, shop, owner):
    make_review(delivered, text="骗子商家")
    services.review_settings_update(actor=owner, shop=shop, data={"sensitive_words": ["骗子"]})
    html = client.get(f"/p/{delivered.product.public_id}/").content.decode()
    assert "＊＊商家" in html and not re.search("骗子商家", html)
    assert product_review_summary(shop=shop, product=delivered.product).reviews[0].review.text == "骗子商家"
