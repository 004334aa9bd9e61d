"""Storefront bargain pages and panel, and the console campaign pages, with their query counts."""

import pytest

from siyu.promotions.bargains.campaigns import live_campaigns_refresh
from siyu.promotions.bargains.models import Bargain, BargainCampaign, BargainHelp

from ...factories import make_product, sign_in_shopper
from .test_services import help_all, started


def _panel(rf, shop, product):
    from django.contrib.sessions.backends.cache import SessionStore

    from siyu.storefront.panels_bargains import product_panel

    request = rf.get(f"/p/{product.public_id}/")
    request.shop, request.session = shop, SessionStore()
    return product_panel(request, product)


def test_product_panel_shows_the_lowest_price(client, shop, campaign, item):
    html = client.get(f"/p/{item.public_id}/").content.decode()
    assert "bargain-panel" in html and "10.00" in html and 'id="bargain-start"' in html


def test_product_panel_costs_no_query(rf, shop, campaign, item, django_assert_num_queries):
    other = make_product(shop, name="普通商品")
    with django_assert_num_queries(0):
        assert _panel(rf, shop, item).context["campaign"].floor_price == 1000
        assert _panel(rf, shop, other) is None


def test_product_panel_of_a_shop_without_bargains_reads_nothing(rf, shop, item, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert _panel(rf, shop, item) is None


def test_start_help_and_page(client, shop, campaign, item, friends):
    starter = friends[10]
    sign_in_shopper(client, starter)
    answer = client.post("/bargains/start/", {"campaign": campaign.public_id})
    bargain = Bargain.objects.get(starter=starter)
    assert answer.status_code == 302 and answer.url == f"/bargains/{bargain.public_id}/"
    html = client.get(answer.url).content.decode()
    assert 'id="bargain-buy"' not in html and "bargain-countdown" in html and "poster.png" in html
    client.logout()
    anonymous = client.get(answer.url).content.decode()
    assert "/login/?next=" in anonymous  # sign in first, then back here
    sign_in_shopper(client, friends[0])
    assert client.post(f"/bargains/{bargain.public_id}/help/").status_code == 302
    assert BargainHelp.objects.filter(bargain=bargain, helper=friends[0]).exists()
    html = client.get(answer.url).content.decode()
    assert 'id="bargain-helped"' in html and "bargain-helpers" in html
    poster = client.get(f"/bargains/{bargain.public_id}/poster.png?ref={starter.share_code}")
    assert poster.status_code == 200 and poster["Content-Type"] == "image/png"
    assert client.get("/bargains/nope/").status_code == 404


def test_starter_sees_buy_once_at_the_floor_and_my_bargains(client, shop, campaign, friends):
    b = started(shop, campaign)
    help_all(shop, b, friends[:5])
    sign_in_shopper(client, b.starter)
    html = client.get(f"/bargains/{b.public_id}/").content.decode()
    assert 'id="bargain-buy"' in html and f"promotion=bargain%3A{b.public_id}" in html
    mine = client.get("/my/bargains/").content.decode()
    assert b.public_id in mine
    assert "/my/bargains/" in client.get("/my/").content.decode()


@pytest.mark.parametrize("n", [5, 30])
def test_bargain_page_query_count(client, shop, campaign, friends, n, django_assert_num_queries):
    from ...factories import make_shopper

    BargainCampaign.objects.filter(pk=campaign.pk).update(helps_needed=40)
    b = started(shop, BargainCampaign.objects.get(pk=campaign.pk))
    help_all(shop, b, [make_shopper() for _ in range(n)])
    with django_assert_num_queries(1 + 2):  # shop, bargain (campaign, SKU, product, starter), helps with helpers
        assert client.get(f"/bargains/{b.public_id}/").status_code == 200


@pytest.mark.parametrize("n", [5, 30])
def test_console_pages(client, staff_client, shop, campaign, n, django_assert_max_num_queries):
    for _ in range(n):
        started(shop, campaign)
    with django_assert_max_num_queries(8):
        html = staff_client.get("/console/bargains/").content.decode()
    assert campaign.name in html
    with django_assert_max_num_queries(10):
        html = staff_client.get(f"/console/bargains/{campaign.public_id}/").content.decode()
    assert html.count("<tr") >= n


def test_console_create_edit_end(staff_client, shop, sku):
    form = {
        "name": "周末砍价",
        "sku_id": str(sku.pk),
        "floor_price": "12.50",
        "helps_needed": "4",
        "hours": "24",
        "starts_at": "2025-01-01T10:00",
        "ends_at": "2099-01-01T10:00",
        "stock_cap": "3",
    }
    answer = staff_client.post("/console/bargains/new/", form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    campaign = BargainCampaign.objects.get(name="周末砍价")
    assert campaign.floor_price == 1250
    too_high = staff_client.post("/console/bargains/new/", {**form, "floor_price": "49.99"})
    assert too_high.status_code == 409
    edit = staff_client.post(f"/console/bargains/{campaign.public_id}/", {**form, "stock_cap": "9"})
    assert edit.status_code == 302
    campaign.refresh_from_db()
    assert campaign.stock_cap == 9
    staff_client.post(f"/console/bargains/{campaign.public_id}/end/")
    campaign.refresh_from_db()
    assert campaign.status == "ended"
    live_campaigns_refresh(shop_id=shop.pk)
