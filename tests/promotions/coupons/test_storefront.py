"""Storefront coupon pages: centre, claim link, my coupons, checkout choice, product panel."""

import pytest
from django.test import RequestFactory

from siyu.promotions.coupons.models import CouponGrant
from siyu.storefront import panels_coupons

from ...factories import make_product
from .steps import make_coupon


def test_centre_claim_and_my_coupons(shopper_client, shop, owner, shopper):
    coupon = make_coupon(shop, owner)
    page = shopper_client.get("/coupons/")
    assert page.status_code == 200 and coupon.name in page.content.decode()
    assert shopper_client.post("/coupons/", {"coupon": coupon.public_id}).status_code == 302
    assert CouponGrant.objects.filter(shopper=shopper, source="centre").count() == 1
    mine = shopper_client.get("/my/coupons/")
    assert coupon.name in mine.content.decode()
    assert coupon.name not in shopper_client.get("/my/coupons/?tab=used").content.decode()


def test_claim_link_keeps_the_sharer_code(shopper_client, shop, owner, shopper):
    coupon = make_coupon(shop, owner, public=False)
    assert shopper_client.get(f"/coupons/{coupon.public_id}/?ref=abc12345").status_code == 200
    shopper_client.post(f"/coupons/{coupon.public_id}/")
    grant = CouponGrant.objects.get(shopper=shopper)
    assert grant.source == "link"
    assert shopper_client.get("/coupons/nosuchcoupon1/").status_code == 404


def test_anonymous_claim_goes_to_sign_in(client, shop, owner):
    coupon = make_coupon(shop, owner)
    response = client.post("/coupons/", {"coupon": coupon.public_id})
    assert response.status_code == 302 and "login" in response["Location"]


def test_checkout_shows_the_best_coupon_preselected(shopper_client, shop, owner, shopper, address):
    make_coupon(shop, owner, name="减5", kind="no_threshold", amount_off=500)
    best = make_coupon(shop, owner, name="减20", amount_off=2000, min_spend=5000)
    from siyu.promotions.coupons.services import coupon_claim

    for coupon in best.__class__.objects.filter(shop=shop):
        coupon_claim(shop=shop, shopper=shopper, public_id=coupon.public_id)
    tea = make_product(shop, price=6000)
    page = shopper_client.get(f"/checkout/?sku={tea.skus.get().pk}&quantity=1").content.decode()
    assert 'name="coupon"' in page and "减20" in page and "¥40.00" in page  # 60 − 20
    grant = CouponGrant.objects.get(coupon=best)
    assert f'value="{grant.public_id}" selected' in page
    page = shopper_client.get(f"/checkout/?sku={tea.skus.get().pk}&quantity=1&coupon=none").content.decode()
    assert "¥60.00" in page


@pytest.mark.parametrize("n", [1, 8])
def test_centre_query_count(shopper_client, shop, owner, n, django_assert_num_queries):
    for i in range(n):
        make_coupon(shop, owner, name=f"券{i}")
    shopper_client.get("/coupons/")
    with django_assert_num_queries(3):  # session, shopper, coupons (same at any size)
        shopper_client.get("/coupons/")


def test_product_panel_costs_no_query_without_public_coupons(db, shop, django_assert_num_queries):
    product = make_product(shop)
    request = RequestFactory().get("/")
    request.shop = shop
    assert panels_coupons.product_panel(request, product) is None  # reads and caches the flag
    with django_assert_num_queries(0):
        assert panels_coupons.product_panel(request, product) is None


def test_product_panel_lists_claimable_coupons(shop, owner):
    product = make_product(shop)
    make_coupon(shop, owner, name="全场券")
    request = RequestFactory().get("/")
    request.shop = shop
    panel = panels_coupons.product_panel(request, product)
    assert panel is not None and panel.context["coupons"][0][0].name == "全场券"


def test_claim_page_shares_a_poster_with_the_sharers_code(shopper_client, shop, owner, shopper):
    coupon = make_coupon(shop, owner, public=False)
    page = shopper_client.get(f"/coupons/{coupon.public_id}/").content.decode()
    poster_url = f"/coupons/{coupon.public_id}/poster.png?ref={shopper.share_code}"
    assert 'id="coupon-share"' in page and poster_url in page
    assert f"/coupons/{coupon.public_id}/?ref={shopper.share_code}" in page  # the link to copy
    resp = shopper_client.get(poster_url)
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert resp.content.startswith(b"\x89PNG")
    assert shopper_client.get(f"/coupons/{coupon.public_id}/poster.png?ref=bad!code").status_code == 404
    assert shopper_client.get("/coupons/nosuchcoupon1/poster.png").status_code == 404


def test_poster_qr_opens_the_claim_page_with_the_ref(client, shop, owner, monkeypatch):
    from siyu.storefront import views_coupons

    seen = {}

    def fake_poster(**kwargs):
        seen.update(kwargs)
        return b"\x89PNG"

    monkeypatch.setattr(views_coupons, "invite_poster_png", fake_poster)
    coupon = make_coupon(shop, owner, name="满100减20")
    client.get(f"/coupons/{coupon.public_id}/poster.png?ref=abc12345")
    assert seen["share_url"].endswith(f"/coupons/{coupon.public_id}/?ref=abc12345")
    assert seen["title"] == "满100减20" and len(seen["lines"]) == 3
