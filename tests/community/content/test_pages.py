"""Content pages: today's posts for sharers (links carry the sharer's code), the post link (click,
referral, attribution through sign-in and checkout), the poster, share taps; the console list with
figures (queries at two sizes), the post form, schedule, delete, personas; other shops."""

import re

import pytest
from django.urls import reverse

from siyu.community.content.models import Post, PostOrder, PostShare, PostVisit
from siyu.referrals.models import ShareVisit
from siyu.storefront.panels_content import my_links, product_panel
from tests.factories import make_shopper, make_staff, sign_in_shopper
from tests.orders.helpers import place
from tests.promotion_flags import promotion_flags_warm

from .conftest import jpeg, make_post, not_an_image, run_order_events, today_at

pytestmark = pytest.mark.django_db


# --- storefront ----------------------------------------------------------------------------------


def test_todays_page_needs_a_sharer(client, shop, owner):
    make_post(shop, owner)
    resp = client.get(reverse("storefront:content_today"))
    assert resp.status_code == 302 and "/login/" in resp["Location"]


@pytest.mark.parametrize("n", [1, 6])
def test_todays_page_links_carry_the_sharers_code(
    shopper_client, shop, owner, shopper, product, n, django_assert_num_queries
):
    posts = [make_post(shop, owner, text=f"第{i}条", images=[jpeg()]) for i in range(n)]
    poster = make_post(shop, owner, text="海报", product=product.public_id, poster=True)
    make_post(shop, owner, text="明天的", publish_at=None)
    promotion_flags_warm(shop.pk)
    with django_assert_num_queries(3):  # session, shopper, posts
        resp = shopper_client.get(reverse("storefront:content_today"))
    html = resp.content.decode()
    assert resp.status_code == 200 and "明天的" not in html
    for post in [*posts, poster]:
        assert f"/m/{post.code}/?ref={shopper.share_code}" in html
    assert f"/m/{poster.code}/poster.png?ref={shopper.share_code}" in html
    assert html.count("data-content-copy") == n + 1
    assert "<script>" not in html and " onclick" not in html  # strict CSP: behaviour lives in content.js
    assert "storefront/content.js" in html


def test_staff_share_with_their_own_code(client, shop, owner):
    make_post(shop, owner)
    client.force_login(owner.user)
    html = client.get(reverse("storefront:content_today")).content.decode()
    assert f"?ref={owner.share_code}" in html


def test_a_share_tap_is_recorded(shopper_client, shop, owner, shopper):
    post = make_post(shop, owner)
    url = reverse("storefront:content_share", args=[post.code])
    assert shopper_client.post(url, {"kind": "copy"}).status_code == 201
    assert shopper_client.post(url, {"kind": "nope"}).status_code == 400
    share = PostShare.objects.get()
    assert (share.kind, share.shopper, share.code) == ("copy", shopper, shopper.share_code)


def test_a_share_tap_needs_a_sharer(client, shop, owner):
    post = make_post(shop, owner)
    assert client.post(reverse("storefront:content_share", args=[post.code]), {"kind": "copy"}).status_code == 401


def test_the_post_link_counts_the_click_and_the_referral_then_leads_to_the_product(client, shop, owner, product):
    sharer = make_shopper()
    post = make_post(shop, owner, product=product.public_id)
    resp = client.get(f"/m/{post.code}/?ref={sharer.share_code}")
    assert resp.status_code == 302 and resp["Location"] == f"/p/{product.public_id}/"
    client.get(f"/m/{post.code}/?ref={sharer.share_code}")
    visit = PostVisit.objects.get()
    assert (visit.clicks, visit.ref_code, visit.shopper) == (2, sharer.share_code, None)
    assert ShareVisit.objects.filter(shop=shop).exists()  # the referral middleware saw the sharer's code
    assert client.session["ref"] == sharer.share_code
    assert client.get("/m/nosuchcode2/").status_code == 404


def test_a_visitor_who_signs_in_later_is_credited_with_their_order(client, shop, owner, product, address, shopper):
    post = make_post(shop, owner, product=product.public_id)
    make_post(shop, owner, text="another")  # not visited
    client.get(f"/m/{post.code}/?ref={make_shopper().share_code}")
    assert PostVisit.objects.get().shopper is None
    sign_in_shopper(client, shopper)
    assert client.get(f"/p/{product.public_id}/").status_code == 200  # the product page binds the visit
    assert PostVisit.objects.get().shopper == shopper
    order = place(shop, shopper, address, product)
    run_order_events(order)
    assert PostOrder.objects.get().post == post
    someone = make_shopper()
    other_order = place(shop, someone, _their_address(shop, someone), product)
    run_order_events(other_order)
    assert PostOrder.objects.count() == 1


def _their_address(shop, shopper):
    from siyu.accounts.services import address_create

    data = {"recipient": "乙", "phone": shopper.phone, "province": "浙江省", "city": "杭州市", "district": "西湖区"}
    return address_create(shop=shop, shopper=shopper, data={**data, "detail": "1 号"})


def test_panels_cost_no_query_without_a_post_visit(rf, shop, product, django_assert_num_queries):
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    request = rf.get("/")
    request.shop, request.session = shop, SessionStore()
    assert my_links(request) == []  # fills the flag
    with django_assert_num_queries(0):
        assert product_panel(request, product) is None
        assert my_links(request) == []


def test_my_page_links_to_todays_posts_once_the_shop_has_posts(shopper_client, shop, owner):
    make_post(shop, owner)
    assert reverse("storefront:content_today") in shopper_client.get(reverse("storefront:my")).content.decode()


def test_the_poster_is_a_png_and_refuses_bad_codes(client, shop, owner, product):
    post = make_post(shop, owner, product=product.public_id, poster=True)
    resp = client.get(f"/m/{post.code}/poster.png?ref=abcd2345")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png" and resp.content[:4] == b"\x89PNG"
    assert client.get(f"/m/{post.code}/poster.png?ref=BAD!").status_code == 404
    plain = make_post(shop, owner)
    assert client.get(f"/m/{plain.code}/poster.png").status_code == 404


# --- console -------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 12])
def test_console_list_shows_figures_in_fixed_queries(staff_client, shop, owner, n, django_assert_num_queries):
    posts = [make_post(shop, owner, text=f"帖子{i}", tags=["上新"]) for i in range(n)]
    PostVisit.objects.create(
        shop=shop, post=posts[0], visitor_key="k", clicks=3, first_at=posts[0].created_at, last_at=posts[0].created_at
    )
    with django_assert_num_queries(6):  # session, user, staff, personas, count, page with figures
        resp = staff_client.get(reverse("console:content"))
    html = resp.content.decode()
    assert resp.status_code == 200 and html.count('id="post-') == n
    row = re.search(rf'id="post-{posts[0].code}".*?</tr>', html, re.S).group(0)
    assert '<td class="num">3</td>' in row and '<td class="num">1</td>' in row


def test_console_creates_edits_schedules_and_deletes_a_post(staff_client, shop, product):
    resp = staff_client.post(
        reverse("console:content_post_create"),
        {"text": "中秋礼盒上新", "images": [jpeg(), jpeg()], "product": product.public_id, "tags": "中秋"},
    )
    assert resp.status_code == 302
    post = Post.objects.get()
    assert len(post.images) == 2 and post.publish_at is None and post.tags == ["中秋"]
    edit = reverse("console:content_post", args=[post.code])
    assert 'id="post-figures"' in staff_client.get(edit).content.decode()
    staff_client.post(edit, {"text": "改过的", "remove": ["0"], "publish_at": today_at(20).strftime("%Y-%m-%dT%H:%M")})
    post.refresh_from_db()
    assert post.text == "改过的" and len(post.images) == 1 and post.publish_at is not None
    staff_client.post(reverse("console:content_post_schedule", args=[post.code]), {"publish_at": ""})
    post.refresh_from_db()
    assert post.publish_at is None
    staff_client.post(reverse("console:content_post_delete", args=[post.code]))
    post.refresh_from_db()
    assert post.deleted_at is not None
    assert 'id="post-' not in staff_client.get(reverse("console:content")).content.decode()


def test_console_form_refuses_ten_images_and_a_bad_file(staff_client, shop):
    url = reverse("console:content_post_create")
    assert staff_client.post(url, {"text": "x", "images": [jpeg() for _ in range(10)]}).status_code == 400
    resp = staff_client.post(url, {"text": "x", "images": [not_an_image()]})
    assert resp.status_code == 400 and not Post.objects.exists()


def test_console_personas(staff_client, shop, owner):
    url = reverse("console:content_personas")
    resp = staff_client.post(url, {"name": "小美", "tone": "亲切活泼", "avatar": jpeg()})
    assert resp.status_code == 302
    page = staff_client.get(resp["Location"]).content.decode()
    assert "小美" in page and 'id="persona-plan"' in page
    persona_id = resp["Location"].rstrip("/").rsplit("/", 1)[1]
    make_post(shop, owner, persona=persona_id, publish_at=today_at(22))
    assert '<td class="num">1</td>' in staff_client.get(url).content.decode()
    staff_client.post(reverse("console:content_persona_delete", args=[persona_id]))
    assert "小美" not in staff_client.get(url).content.decode()


def test_console_pages_of_another_shop_are_404(client, shop, owner, other_shop):
    post = make_post(shop, owner)
    other = make_staff(other_shop, username="other-owner")
    client.force_login(other.user)
    assert client.get("/s/other/console/content/").status_code == 200
    assert client.get(f"/s/other/console/content/{post.code}/").status_code == 404
    assert client.post(f"/s/other/console/content/{post.code}/delete/").status_code == 404


def test_an_empty_draft_cannot_be_scheduled_from_the_list(staff_client, shop, owner):
    draft = make_post(shop, owner, text="", publish_at=None)
    url = reverse("console:content_post_schedule", args=[draft.code])
    resp = staff_client.post(url, {"publish_at": today_at(21).strftime("%Y-%m-%dT%H:%M")}, follow=True)
    draft.refresh_from_db()
    shown = [m for m in resp.context["messages"] if m.level_tag == "error"]
    assert draft.publish_at is None and len(shown) == 1
    staff_client.post(url, {"publish_at": "soon"})
    draft.refresh_from_db()
    assert draft.publish_at is None
