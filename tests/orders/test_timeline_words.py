"""The shopper's and the merchant's order timelines read the same words, in the reader's language:
no status codes, reason codes, fen amounts or provider names."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from siyu.payments.aftersales import aftersale_review

from ..factories import make_product, sign_in_shopper
from .helpers import ask, pay, place

RAW = ["pending_payment", "aftersale.refund_only", "[other]", " fen", "sandbox", "refund_approve", "→ paid"]


@pytest.fixture
def refunded(shop, shopper, address, owner, django_capture_on_commit_callbacks):
    order = place(shop, shopper, address, make_product(shop, name="龙井", price=19900, stock=5))
    pay(order)
    sale = ask(order, order.lines.get(), "refund_only", 1, "other")
    with django_capture_on_commit_callbacks(execute=True):
        aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    return order


def storefront_timeline(order, language: str) -> str:
    client = Client()
    sign_in_shopper(client, order.shopper)
    client.cookies["django_language"] = language
    page = client.get(reverse("storefront:order", args=[order.public_id])).content.decode()
    return re.search(r'<section class="box timeline">(.*?)</section>', page, re.S).group(1)


def console_timeline(order, owner, language: str) -> str:
    client = Client()
    client.force_login(owner.user)
    client.cookies["django_language"] = language
    page = client.get(reverse("console:order_detail", args=[order.public_id])).content.decode()
    return re.search(r'<table class="table timeline">(.*?)</table>', page, re.S).group(1)


def assert_no_codes(text: str) -> None:
    for code in RAW:
        assert code not in text, code


def test_english_timelines_show_words(refunded, owner):
    for text in (storefront_timeline(refunded, "en"), console_timeline(refunded, owner, "en")):
        assert_no_codes(text)
        assert "Placed" in text and "Asked for a refund" in text and "Refunded" in text
        assert "Pending payment" in text and "¥199.00" in text and "Other" in text
        assert "System" in text or "Payment" in text
    shopper_view = storefront_timeline(refunded, "en")
    assert "Payment · Paid" in shopper_view and "boss" not in shopper_view  # no staff names for shoppers
    assert "boss" in console_timeline(refunded, owner, "en")


@pytest.mark.skipif(
    not Path(__file__).resolve().parents[2].joinpath("siyu/console/locale/zh_Hans/LC_MESSAGES/django.mo").exists(),
    reason="needs compiled catalogues (make messages)",
)
def test_chinese_timelines_show_words(refunded, owner):
    for text in (storefront_timeline(refunded, "zh-hans"), console_timeline(refunded, owner, "zh-hans")):
        assert_no_codes(text)
        assert "下单" in text and "申请仅退款" in text and "已退款" in text and "待付款" in text
        assert "¥199.00" in text and "其他" in text


def test_the_api_timeline_carries_words_beside_the_codes(refunded, shopper, client):
    from ..factories import sign_in_shopper

    sign_in_shopper(client, shopper)
    response = client.get(f"/api/v1/storefront/orders/{refunded.public_id}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    rows = response.json()["timeline"]
    assert rows[0]["action"] == "place" and rows[0]["action_label"] == "已下单"
    assert any("¥199.00" in r["note_label"] for r in rows)
