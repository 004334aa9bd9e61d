"""The links a message carries (tracked /go/ links, unsubscribe links) open the right shop: its own
host, else the public URL with the shop's /s/<slug> prefix unless it is the default shop; never a
prefix picked up from the request that happened to start the sending."""

import pytest
from django.test import override_settings
from django.urls import set_script_prefix

from siyu.campaigns.channels.unsubscribe import storefront_url, unsubscribe_token, unsubscribe_url
from siyu.campaigns.outreach.sending import tracked_link

from .conftest import make_customer

pytestmark = pytest.mark.django_db


@override_settings(SIYU_PUBLIC_URL="https://m.example.com/")
def test_links_name_the_shop(shop, other_shop):
    assert tracked_link(shop, "abc") == "https://m.example.com/go/abc/"  # the default shop: no prefix
    assert tracked_link(other_shop, "abc") == "https://m.example.com/s/other/go/abc/"
    other_shop.host = "shop.other.example"
    assert tracked_link(other_shop, "abc") == "https://shop.other.example/go/abc/"
    customer = make_customer(other_shop)
    other_shop.host = ""
    token = unsubscribe_token(customer)
    assert unsubscribe_url(other_shop, customer) == f"https://m.example.com/s/other/u/{token}/"


def test_a_running_request_prefix_is_not_carried(shop, other_shop, client):
    set_script_prefix("/s/main/")
    try:
        assert storefront_url(other_shop, "campaign_link", "x") == "http://localhost:8000/s/other/go/x/"
    finally:
        set_script_prefix("/")


def test_a_prefixed_link_opens_that_shops_page(client, shop, other_shop):
    customer = make_customer(other_shop)
    url = unsubscribe_url(other_shop, customer)
    response = client.get(url.replace("http://localhost:8000", ""))
    assert response.status_code == 200 and other_shop.name in response.content.decode()
