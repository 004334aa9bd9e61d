"""Every storefront page, rendered in Chinese, shows no English a shopper would have to read."""

import pytest
from django.urls import reverse

from siyu.orders.checkout import cart_set
from siyu.payments.aftersales import aftersale_request
from siyu.payments.models import Payment
from siyu.payments.services import payment_start

from ..i18n_helpers import untranslated
from ..orders.helpers import pay, place
from .test_pages import catalogue  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

# Test data in Latin letters that a real shop could also have (a size, a fabric).
DATA = {"T恤"}


@pytest.fixture
def bought(shop, owner, shopper, address, catalogue):  # noqa: F811
    """A paid order with an after-sale request, an unpaid order, a cart: every page has content."""
    tea = catalogue["products"][0]
    paid = place(shop, shopper, address, tea)
    pay(paid)
    paid.refresh_from_db()
    aftersale_request(
        shop=shop,
        shopper=shopper,
        order_public_id=paid.public_id,
        line_id=paid.lines.get().pk,
        kind="refund_only",
        quantity=1,
        reason_code="no_reason",
        reason="不想要了",
        photos=[],
    )
    unpaid = place(shop, shopper, address, catalogue["products"][1])
    payment_start(shop=shop, shopper=shopper, order_public_id=unpaid.public_id, provider="sandbox")
    shirt_sku = catalogue["shirt"].skus.filter(stock__gt=0).first()
    cart_set(shop=shop, shopper=shopper, sku_id=shirt_sku.pk, quantity=2)
    return {"paid": paid, "unpaid": unpaid, "payment": Payment.objects.get(order=unpaid)}


def _pages(catalogue, bought, address):  # noqa: F811
    shirt, paid, unpaid = catalogue["shirt"], bought["paid"], bought["unpaid"]
    return [
        "/",
        "/categories/",
        f"/c/{catalogue['tea'].pk}/",
        "/search/?q=龙井",
        f"/p/{shirt.public_id}/",
        f"/p/{shirt.public_id}/share/",
        "/agreement/",
        "/privacy-policy/",
        "/my/",
        "/my/addresses/",
        "/my/addresses/new/",
        f"/my/addresses/{address.public_id}/",
        "/my/member/",
        "/my/invite/",
        "/my/privacy/",
        "/cart/",
        "/checkout/?from_cart=1",
        "/orders/",
        f"/orders/{paid.public_id}/",
        f"/orders/{unpaid.public_id}/",
        f"/orders/{unpaid.public_id}/pay/",
        f"/orders/{paid.public_id}/after-sale/{paid.lines.get().pk}/",
        reverse("storefront:sandbox_pay", args=[bought["payment"].out_trade_no]),
        "/no-such-page/",
    ]


def test_every_storefront_page_reads_chinese(shopper_client, catalogue, bought, address):  # noqa: F811
    leftovers = {}
    for url in _pages(catalogue, bought, address):
        response = shopper_client.get(url)
        assert response.status_code in (200, 404), url
        found = untranslated(response.content.decode(), allow=DATA)
        if found:
            leftovers[url] = found
    assert leftovers == {}, "; ".join(sorted({s for v in leftovers.values() for s in v}))


def test_sign_in_page_reads_chinese(client, shop):
    assert untranslated(client.get("/login/").content.decode()) == []
    sent = client.post("/login/", {"phone": "13912345678", "action": "send"})
    assert untranslated(sent.content.decode()) == []


def test_the_check_finds_english():
    """The helper itself: English text and attributes are caught; codes, sizes and brands are not."""
    html = (
        '<p>保存海报 Save the poster</p><input placeholder="Search products">'
        "<p>订单 SY20250101 尺码 M · WeChat</p><script>var english = 1;</script>"
    )
    assert untranslated(html) == ["保存海报 Save the poster", "Search products"]
