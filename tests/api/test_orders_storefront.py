"""Storefront order endpoints: cart, quote, idempotent checkout, payment, the shopper's own orders."""

import pytest

from siyu.accounts.services import address_create, token_issue
from siyu.catalog.models import ReturnPolicy, Sku
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import AfterSale, CartLine, Order, OrderStatus
from siyu.payments.models import Payment
from siyu.payments.providers.sandbox import sandbox_notification

from ..factories import ShippingTemplateFactory, image_upload, make_product, make_shopper
from ..orders.helpers import pay, place
from .conftest import API, OTHER_API, bearer

ADDRESS = {
    "recipient": "王五",
    "phone": "13800138000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文三路 1 号",
}
SHOP, TOKEN, PAGE = 1, 1, 2


@pytest.fixture
def address(shop, shopper):
    return address_create(shop=shop, shopper=shopper, data=ADDRESS)


@pytest.fixture
def tea(shop):
    product = make_product(shop, name="限量茶", price=5000, stock=5)
    product.shipping_template = ShippingTemplateFactory(shop=shop, base_fee=800, free_over=20000)
    product.save()
    return product


@pytest.fixture
def sf(client, shopper_key):
    """The test client signed in as the shopper by bearer token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {shopper_key}"
    return client


def _post(client, url, payload=None, **headers):
    return client.post(url, payload or {}, content_type="application/json", headers=headers)


def _checkout(client, address, items, key="key-00000001", base=API, **extra):
    body = {"items": items, "address_id": address.public_id, **extra}
    return _post(client, f"{base}/storefront/orders", body, **({"Idempotency-Key": key} if key else {}))


def _stock(product) -> int:
    return Sku.objects.get(product=product).stock


# --- cart and quote ----------------------------------------------------------------------


def test_cart_put_add_and_delete(sf, tea):
    sku = tea.skus.get()
    url = f"{API}/storefront/cart/lines/{sku.pk}"
    assert sf.put(url, {"quantity": 2}, content_type="application/json").status_code == 200
    cart = sf.put(url, {"quantity": 1, "add": True}, content_type="application/json").json()
    assert [(ln["sku_id"], ln["quantity"], ln["line_total_fen"]) for ln in cart["lines"]] == [(sku.pk, 3, 15000)]
    assert cart["subtotal_fen"] == 15000 and cart["lines"][0]["available"] is True
    assert cart["lines"][0]["product_public_id"] == tea.public_id
    assert sf.get(f"{API}/storefront/cart").json() == cart
    assert sf.put(url, {"quantity": 1000}, content_type="application/json").status_code == 400
    missing = sf.put(f"{API}/storefront/cart/lines/999999", {"quantity": 1}, content_type="application/json")
    assert missing.status_code == 404
    assert sf.delete(url).json() == {"lines": [], "subtotal_fen": 0}
    assert not CartLine.objects.exists()


def test_cart_needs_sign_in(client, shop):
    assert client.get(f"{API}/storefront/cart").status_code == 401


def test_quote_prices_on_the_server(sf, address, tea):
    sku = tea.skus.get()
    items = [{"sku": sku.pk, "quantity": 2, "price": 1, "line_total": 2}]
    response = _post(sf, f"{API}/storefront/checkout/quote", {"items": items, "address_id": address.public_id})
    assert response.status_code == 200, response.content
    quote = response.json()
    assert (quote["subtotal_fen"], quote["shipping_fen"], quote["total_fen"]) == (10000, 800, 10800)
    assert quote["lines"][0]["unit_price_fen"] == 5000 and quote["problems"] == {}
    too_many = _post(sf, f"{API}/storefront/checkout/quote", {"items": [{"sku": sku.pk, "quantity": 9}]}).json()
    assert too_many["problems"] == {str(sku.pk): "only 5 left"} and too_many["lines"] == []
    empty = _post(sf, f"{API}/storefront/checkout/quote", {"items": []})
    assert empty.status_code == 400 and empty.json()["code"] == "invalid_input"


def test_quote_flags_no_returns(sf, shop):
    custom = make_product(shop, name="定制", return_policy=ReturnPolicy.NO_RETURNS)
    body = {"items": [{"sku": custom.skus.get().pk, "quantity": 1}]}
    assert _post(sf, f"{API}/storefront/checkout/quote", body).json()["needs_no_returns_confirmation"] is True


# --- checkout ----------------------------------------------------------------------------


def test_checkout_is_idempotent_by_header_and_ignores_client_prices(sf, address, tea):
    sku = tea.skus.get()
    items = [{"sku": sku.pk, "quantity": 2, "price": 1, "unit_price_fen": 1}]
    first = _checkout(sf, address, items, total_fen=1, shipping_fen=0)
    assert first.status_code == 201, first.content
    order = first.json()
    assert (order["subtotal_fen"], order["shipping_fee_fen"], order["total_fen"]) == (10000, 800, 10800)
    assert order["status"] == "pending_payment" and order["ship_to"]["masked_phone"] == "138****8000"
    assert "13800138000" not in first.content.decode()
    again = _checkout(sf, address, items)
    assert again.status_code == 200 and again.json()["public_id"] == order["public_id"]
    assert Order.objects.count() == 1 and _stock(tea) == 3
    other = _checkout(sf, address, [{"sku": sku.pk, "quantity": 1}], key="key-00000002")
    assert other.status_code == 201 and other.json()["public_id"] != order["public_id"]


def test_checkout_requires_an_idempotency_key(sf, address, tea):
    items = [{"sku": tea.skus.get().pk, "quantity": 1}]
    missing = _checkout(sf, address, items, key=None)
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_input"
    assert missing.json()["detail"]["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    for key in ("short", "bad key with spaces", "k" * 65):
        response = _checkout(sf, address, items, key=key)
        assert response.status_code == 400, key
        assert response.json()["code"] == "invalid_input" and "idempotency_key" in response.json()["detail"]
    assert not Order.objects.exists()


def test_checkout_refusals(sf, shop, address, tea):
    sku = tea.skus.get()
    oversell = _checkout(sf, address, [{"sku": sku.pk, "quantity": 6}])
    assert oversell.status_code == 409 and oversell.json()["code"] == "items_unavailable"
    custom = make_product(shop, name="定制", return_policy=ReturnPolicy.NO_RETURNS)
    unconfirmed = _checkout(sf, address, [{"sku": custom.skus.get().pk, "quantity": 1}], key="key-00000003")
    assert unconfirmed.status_code == 400 and unconfirmed.json()["code"] == "confirm_no_returns"
    confirmed = _checkout(
        sf, address, [{"sku": custom.skus.get().pk, "quantity": 1}], key="key-00000004", confirm_no_returns=True
    )
    assert confirmed.status_code == 201 and confirmed.json()["no_returns_confirmed"] is True
    bad_body = _post(sf, f"{API}/storefront/orders", {"items": "x", "address_id": 1}, **{"Idempotency-Key": "k" * 8})
    assert bad_body.status_code == 400
    assert _stock(tea) == 5


def test_checkout_from_cart_empties_the_bought_lines(sf, address, tea):
    sku = tea.skus.get()
    sf.put(f"{API}/storefront/cart/lines/{sku.pk}", {"quantity": 2}, content_type="application/json")
    response = _post(
        sf,
        f"{API}/storefront/orders",
        {"from_cart": True, "address_id": address.public_id},
        **{"Idempotency-Key": "cart-checkout-1"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["quantity"] == 2
    assert sf.get(f"{API}/storefront/cart").json()["lines"] == []


def test_someone_elses_address_cannot_be_used(sf, shop, tea):
    stranger = make_shopper("13700137000")
    theirs = address_create(shop=shop, shopper=stranger, data=ADDRESS)
    response = _checkout(sf, theirs, [{"sku": tea.skus.get().pk, "quantity": 1}])
    assert response.status_code == 400 and response.json()["detail"] == {"address": "not found"}


# --- the shopper's orders ----------------------------------------------------------------


def test_order_list_and_detail(sf, shop, shopper, address, tea):
    paid = place(shop, shopper, address, tea)
    pay(paid)
    waiting = place(shop, shopper, address, tea, quantity=2)
    listing = sf.get(f"{API}/storefront/orders").json()
    assert listing["count"] == 2 and [o["public_id"] for o in listing["items"]] == [waiting.public_id, paid.public_id]
    assert listing["items"][0]["item_count"] == 2
    only_paid = sf.get(f"{API}/storefront/orders?status=paid").json()
    assert [o["public_id"] for o in only_paid["items"]] == [paid.public_id]
    assert sf.get(f"{API}/storefront/orders?status=nonsense").status_code == 400
    detail = sf.get(f"{API}/storefront/orders/{paid.public_id}").json()
    assert detail["paid_amount_fen"] == 5800 and detail["status_label"]
    assert [(t["action"], t["to_status"]) for t in detail["timeline"]] == [
        ("place", "pending_payment"),
        ("pay", "paid"),
    ]
    assert "actor_label" not in detail["timeline"][0]


def test_another_shoppers_order_is_not_found(client, shop, address, tea, shopper):
    order = place(shop, shopper, address, tea)
    intruder = make_shopper("13700137000")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_issue(shop=shop, shopper=intruder)[1]}"
    assert client.get(f"{API}/storefront/orders").json()["count"] == 0
    base = f"{API}/storefront/orders/{order.public_id}"
    responses = [
        client.get(base),
        _post(client, f"{base}/pay", {"provider": "sandbox"}),
        _post(client, f"{base}/cancel"),
        _post(client, f"{base}/receive"),
        client.post(f"{base}/after-sales", {"line_id": order.lines.get().pk, "kind": "refund_only"}),
    ]
    for response in responses:
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
        assert order.number not in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT and not Payment.objects.exists()


def test_a_shopper_token_of_another_shop_is_refused(client, shop, other_shop, shopper, address, tea):
    place(shop, shopper, address, tea)
    other_key = token_issue(shop=other_shop, shopper=shopper)[1]
    refused = client.get(f"{API}/storefront/orders", headers=bearer(other_key))
    assert refused.status_code == 403 and refused.json()["code"] == "wrong_shop"
    # On its own shop the same person sees none of this shop's orders.
    theirs = client.get(f"{OTHER_API}/storefront/orders", headers=bearer(other_key))
    assert theirs.status_code == 200 and theirs.json()["count"] == 0


def test_pay_with_the_sandbox_then_the_notification_pays_the_order(sf, client, address, tea):
    order = _checkout(sf, address, [{"sku": tea.skus.get().pk, "quantity": 1}]).json()
    assert sf.get(f"{API}/storefront/payment-providers").json() == {"providers": ["sandbox"]}
    action = _post(sf, f"{API}/storefront/orders/{order['public_id']}/pay", {"provider": "sandbox"})
    assert action.status_code == 200, action.content
    assert action.json()["kind"] == "redirect" and action.json()["url"].startswith("http://testserver/")
    unknown = _post(sf, f"{API}/storefront/orders/{order['public_id']}/pay", {"provider": "paypal"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_provider"
    payment = Payment.objects.get()
    headers, body = sandbox_notification(out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="t1")
    notified = client.post("/api/payments/notify/sandbox/", body, content_type="application/json", headers=headers)
    assert notified.status_code == 200
    assert sf.get(f"{API}/storefront/orders/{order['public_id']}").json()["status"] == "paid"
    again = _post(sf, f"{API}/storefront/orders/{order['public_id']}/pay", {"provider": "sandbox"})
    assert again.status_code == 409 and again.json()["code"] == "not_payable"


def test_cancel_releases_stock_and_cannot_repeat(sf, shop, shopper, address, tea):
    order = place(shop, shopper, address, tea, quantity=2)
    response = _post(sf, f"{API}/storefront/orders/{order.public_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert _stock(tea) == 5
    again = _post(sf, f"{API}/storefront/orders/{order.public_id}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "bad_transition"
    assert _stock(tea) == 5


def test_receive_then_return_with_photos(sf, shop, shopper, owner, address, tea, django_capture_on_commit_callbacks):
    order = place(shop, shopper, address, tea, quantity=2)
    pay(order)
    early = _post(sf, f"{API}/storefront/orders/{order.public_id}/receive")
    assert early.status_code == 409
    order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1001")
    received = _post(sf, f"{API}/storefront/orders/{order.public_id}/receive")
    assert received.status_code == 200 and received.json()["status"] == "completed"
    assert received.json()["shipments"][0]["tracking_number"] == "SF1001"
    line = order.lines.get()
    form = {
        "line_id": line.pk,
        "kind": "return_refund",
        "quantity": 1,
        "reason_code": "no_reason",
        "reason": "不合适",
        "photos": [image_upload("a.png"), image_upload("b.png")],
    }
    created = sf.post(f"{API}/storefront/orders/{order.public_id}/after-sales", form)
    assert created.status_code == 201, created.content
    sale = created.json()
    assert (sale["kind"], sale["status"], sale["amount_fen"]) == ("return_refund", "requested", 5000)
    assert len(sale["photo_urls"]) == 2 and sale["photo_urls"][0].startswith("http://testserver/media/aftersales/")
    duplicate = sf.post(
        f"{API}/storefront/orders/{order.public_id}/after-sales",
        {"line_id": line.pk, "kind": "return_refund", "reason_code": "no_reason"},
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "aftersale_open"
    bad = sf.post(f"{API}/storefront/orders/{order.public_id}/after-sales", {"line_id": line.pk, "kind": "gift"})
    assert bad.status_code == 400 and bad.json()["detail"] == {"kind": "unknown"}
    ship_back = f"{API}/storefront/after-sales/{sale['public_id']}/return-shipment"
    not_yet = _post(sf, ship_back, {"carrier": "中通", "tracking_number": "ZT9"})
    assert not_yet.status_code == 409
    from siyu.payments.aftersales import aftersale_review

    aftersale_review(actor=owner, shop=shop, public_id=sale["public_id"], approve=True)
    shipped_back = _post(sf, ship_back, {"carrier": "中通", "tracking_number": "ZT9"})
    assert shipped_back.status_code == 200 and shipped_back.json()["return_tracking"] == "ZT9"
    detail = sf.get(f"{API}/storefront/orders/{order.public_id}").json()
    assert [s["status"] for s in detail["after_sales"]] == ["awaiting_return"]
    assert AfterSale.objects.get().return_carrier == "中通"


def test_another_shopper_cannot_ship_back_my_return(client, shop, shopper, owner, address, tea):
    from siyu.payments.aftersales import aftersale_request

    order = place(shop, shopper, address, tea)
    pay(order)
    sale = aftersale_request(
        shop=shop,
        shopper=shopper,
        order_public_id=order.public_id,
        line_id=order.lines.get().pk,
        kind="refund_only",
        quantity=1,
        reason_code="other",
    )
    intruder_key = token_issue(shop=shop, shopper=make_shopper("13700137000"))[1]
    response = _post(
        client,
        f"{API}/storefront/after-sales/{sale.public_id}/return-shipment",
        {"carrier": "中通", "tracking_number": "ZT9"},
        **bearer(intruder_key),
    )
    assert response.status_code == 404


# --- query counts ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 12])
def test_order_list_and_detail_query_counts(sf, shop, shopper, owner, address, n, django_assert_num_queries):
    products = [make_product(shop, name=f"商品{i}", price=100 + i) for i in range(n)]
    orders = [place(shop, shopper, address, p) for p in products]
    big = Order.objects.get(pk=orders[0].pk)
    for p in products[1:]:
        place(shop, shopper, address, p)
    pay(big)
    order_ship(actor=owner, order_id=big.pk, carrier="顺丰", tracking_number="SF1")
    with django_assert_num_queries(SHOP + TOKEN + PAGE + 1):  # + the lines of the page
        listing = sf.get(f"{API}/storefront/orders?limit=100").json()
    assert listing["count"] == 2 * n - 1
    with django_assert_num_queries(SHOP + TOKEN + 5):  # order, lines, timeline, shipments, after-sales
        detail = sf.get(f"{API}/storefront/orders/{big.public_id}").json()
    assert len(detail["timeline"]) == 3 and len(detail["shipments"]) == 1


def test_withdraw_and_confirm_a_replacement(sf, shop, shopper, owner, address, tea):
    from siyu.orders.lifecycle import order_confirm_receipt
    from siyu.payments.aftersales import (
        aftersale_exchange_ship,
        aftersale_receive_return,
        aftersale_request,
        aftersale_review,
    )

    order = place(shop, shopper, address, tea)
    pay(order)
    order_ship(actor=owner, order_id=order.pk, carrier="顺丰", tracking_number="SF1")
    order_confirm_receipt(order_id=order.pk, actor=shopper)

    def ask(kind):
        return aftersale_request(
            shop=shop,
            shopper=shopper,
            order_public_id=order.public_id,
            line_id=order.lines.get().pk,
            kind=kind,
            quantity=1,
            reason_code="no_reason",
        )

    first = ask("return_refund")
    withdrawn = _post(sf, f"{API}/storefront/after-sales/{first.public_id}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert _post(sf, f"{API}/storefront/after-sales/{first.public_id}/withdraw").status_code == 409
    second = ask("exchange")  # asked again: the withdrawn one is not open
    aftersale_review(actor=owner, shop=shop, public_id=second.public_id, approve=True)
    late = _post(sf, f"{API}/storefront/after-sales/{second.public_id}/withdraw")
    assert late.status_code == 409  # the shop acted first
    aftersale_receive_return(actor=owner, shop=shop, public_id=second.public_id)
    aftersale_exchange_ship(actor=owner, shop=shop, public_id=second.public_id, carrier="中通", tracking_number="Z2")
    got = _post(sf, f"{API}/storefront/after-sales/{second.public_id}/replacement-received")
    assert got.status_code == 200 and got.json()["status"] == "exchanged"
    assert got.json()["replacement_tracking"] == "Z2" and got.json()["replacement_received_at"]
    assert _post(sf, f"{API}/storefront/after-sales/nope/withdraw").status_code == 404
