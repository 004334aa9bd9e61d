"""One rule for what in the cart can be bought now, shared by the storefront page and the API."""

from siyu.catalog.models import ProductStatus, Sku
from siyu.orders.cart import OFF_SALE, SHORT, SOLD_OUT, cart_view
from siyu.orders.checkout import cart_set

from ..factories import make_product


def test_each_line_says_why_it_cannot_be_bought_and_the_subtotal_counts_only_the_rest(shop, shopper):
    ok, short, gone, off = (make_product(shop, name=f"茶{i}", price=1000 * (i + 1)) for i in range(4))
    for product, quantity in ((ok, 2), (short, 3), (gone, 1), (off, 1)):
        cart_set(shop=shop, shopper=shopper, sku_id=product.skus.get().pk, quantity=quantity)
    Sku.objects.filter(product=short).update(stock=2)
    Sku.objects.filter(product=gone).update(stock=0)
    off.status = ProductStatus.OFF_SHELF
    off.save(update_fields=["status"])
    view = cart_view(shop=shop, shopper=shopper)
    assert [r.problem for r in view.rows] == ["", SHORT, SOLD_OUT, OFF_SALE]
    assert view.subtotal == 2 * 1000


def test_the_api_and_the_page_agree(shop, shopper, client):
    from ..factories import sign_in_shopper

    tea = make_product(shop, name="龙井", price=1500)
    cart_set(shop=shop, shopper=shopper, sku_id=tea.skus.get().pk, quantity=2)
    Sku.objects.filter(product=tea).update(stock=1)
    sign_in_shopper(client, shopper)
    api = client.get("/api/v1/storefront/cart").json()
    assert api["lines"][0]["available"] is False and api["subtotal_fen"] == 0
    page = client.get("/cart/")
    assert page.context["total"] == 0 and page.context["buyable"] == 0
