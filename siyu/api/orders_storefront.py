"""Storefront endpoints for buying: cart, quote, checkout, payment, the shopper's orders, after-sales.

Every endpoint needs a signed-in shopper and only ever reads that shopper's own orders: another
shopper's order id is simply not found. Prices and postage come from the server only.
"""

from typing import Annotated

from django.urls import reverse
from ninja import Field, File, Form, Header, Query, Router, UploadedFile
from ninja.responses import Status

from siyu.accounts.selectors import address_get
from siyu.orders.cart import cart_view
from siyu.orders.checkout import cart_lines, cart_set, order_quote, order_submit
from siyu.orders.lifecycle import order_cancel, order_confirm_receipt
from siyu.orders.selectors import order_for_shopper, orders_of_shopper
from siyu.payments.aftersales import (
    aftersale_exchange_received,
    aftersale_request,
    aftersale_return_shipped,
    aftersale_withdraw,
)
from siyu.payments.providers import providers_enabled
from siyu.payments.services import payment_start

from .auth import shopper_auth
from .orders_schemas import (
    AfterSaleOut,
    CartLineIn,
    CartOut,
    OrderDetailOut,
    OrderFilterIn,
    OrderIn,
    OrderPage,
    PayActionOut,
    PayIn,
    ProvidersOut,
    QuoteIn,
    QuoteOut,
    ReturnShipmentIn,
)
from .schemas import ERRORS, Id, In, page_of

router = Router(tags=["storefront orders"], auth=shopper_auth)

IDEMPOTENCY_HELP = "Required: 8 to 64 letters, digits, _ or -. The same key answers with the same order (200, not 201)."


def _cart(request) -> dict:
    view = cart_view(shop=request.shop, shopper=request.auth)
    return {"lines": view.rows, "subtotal_fen": view.subtotal}


def _items(request, data: QuoteIn) -> list[dict] | None:
    if data.from_cart:
        return [
            {"sku": ln.sku_id, "quantity": ln.quantity} for ln in cart_lines(shop=request.shop, shopper=request.auth)
        ]
    return None if data.items is None else [item.dict() for item in data.items]


def _detail(request, public_id: str):
    return order_for_shopper(shop=request.shop, shopper=request.auth, public_id=public_id)


# --- cart --------------------------------------------------------------------------------


@router.get("/cart", response={200: CartOut, **ERRORS})
def cart(request):
    return _cart(request)


@router.put("/cart/lines/{sku_id}", response={200: CartOut, **ERRORS})
def cart_line_set(request, sku_id: Id, data: CartLineIn):
    cart_set(shop=request.shop, shopper=request.auth, sku_id=sku_id, quantity=data.quantity, add=data.add)
    return _cart(request)


@router.delete("/cart/lines/{sku_id}", response={200: CartOut, **ERRORS})
def cart_line_remove(request, sku_id: Id):
    cart_set(shop=request.shop, shopper=request.auth, sku_id=sku_id, quantity=0)
    return _cart(request)


# --- checkout ----------------------------------------------------------------------------


@router.post("/checkout/quote", response={200: QuoteOut, **ERRORS})
def checkout_quote(request, data: QuoteIn):
    """Price a basket for this shopper: current prices, postage for the address, and problems."""
    province = ""
    if data.address_id and not data.pickup_point:
        province = address_get(shop=request.shop, shopper=request.auth, public_id=data.address_id).province
    return order_quote(
        shop=request.shop,
        items=_items(request, data),
        province=province,
        shopper=request.auth,
        options={"points": data.points, "coupon": data.coupon, "promotion": data.promotion},
        pickup=bool(data.pickup_point),
    )


@router.post("/orders", response={200: OrderDetailOut, 201: OrderDetailOut, **ERRORS})
def order_create(
    request,
    data: OrderIn,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", max_length=100, description=IDEMPOTENCY_HELP)],
):
    """Place an order. Send a fresh `Idempotency-Key` header per checkout; retrying with the same
    key (after a timeout, say) returns the order already made, with status 200."""
    order, created = order_submit(
        shop=request.shop,
        shopper=request.auth,
        items=_items(request, data),
        address_id=data.address_id,
        pickup_point=data.pickup_point,
        idempotency_key=idempotency_key,
        note=data.note,
        confirm_no_returns=data.confirm_no_returns,
        ref_code=request.session.get("ref", ""),
        from_cart=data.from_cart,
        options={"points": data.points, "coupon": data.coupon, "promotion": data.promotion},
    )
    if not created:
        return Status(200, _detail(request, order.public_id))
    return Status(201, order)


# --- the shopper's orders ----------------------------------------------------------------


@router.get("/orders", response={200: OrderPage, **ERRORS})
def orders(request, filters: Query[OrderFilterIn]):
    qs = orders_of_shopper(shop=request.shop, shopper=request.auth, status=filters.status)
    return page_of(qs, filters)


@router.get("/orders/{public_id}", response={200: OrderDetailOut, **ERRORS})
def order_detail(request, public_id: str):
    return _detail(request, public_id)


@router.get("/payment-providers", response={200: ProvidersOut, **ERRORS})
def payment_providers(request):
    return {"providers": providers_enabled(shop=request.shop)}


@router.post("/orders/{public_id}/pay", response={200: PayActionOut, **ERRORS})
def order_pay(request, public_id: str, data: PayIn):
    """How to pay: a URL to open (`redirect`) or to show as a QR code (`qrcode`). The order turns
    paid when the provider's notification arrives; poll the order to see it."""
    back = request.build_absolute_uri(reverse("storefront:order", args=[public_id]))
    action = payment_start(
        shop=request.shop, shopper=request.auth, order_public_id=public_id, provider=data.provider, return_url=back
    )
    url = request.build_absolute_uri(action.url) if action.url.startswith("/") else action.url
    return {"kind": action.kind, "url": url}


@router.post("/orders/{public_id}/cancel", response={200: OrderDetailOut, **ERRORS})
def order_cancel_by_shopper(request, public_id: str):
    order = _detail(request, public_id)
    # Stored as a code; the timeline shows it in the reader's language.
    order_cancel(order_id=order.pk, actor=request.auth, reason="cancelled by the shopper")
    return _detail(request, public_id)


@router.post("/orders/{public_id}/receive", response={200: OrderDetailOut, **ERRORS})
def order_receive(request, public_id: str):
    order = _detail(request, public_id)
    order_confirm_receipt(order_id=order.pk, actor=request.auth, shopper_id=request.auth.pk)
    return _detail(request, public_id)


# --- after-sales -------------------------------------------------------------------------


class AfterSaleForm(In):
    line_id: Id
    kind: str = Field("refund_only", max_length=20, description="refund_only, return_refund or exchange.")
    quantity: int = Field(1, ge=1, le=999)
    reason_code: str = Field(
        "other", max_length=20, description="no_reason, quality, wrong_item, not_received or other."
    )
    reason: str = Field("", max_length=300)


@router.post("/orders/{public_id}/after-sales", response={201: AfterSaleOut, **ERRORS})
def aftersale_create(
    request,
    public_id: str,
    form: Form[AfterSaleForm],
    photos: File[list[UploadedFile] | None] = None,
):
    """Ask for a refund, a return or an exchange of one line (multipart form; up to 6 photos)."""
    sale = aftersale_request(
        shop=request.shop,
        shopper=request.auth,
        order_public_id=public_id,
        line_id=form.line_id,
        kind=form.kind,
        quantity=form.quantity,
        reason_code=form.reason_code,
        reason=form.reason,
        photos=photos or [],
    )
    return Status(201, sale)


@router.post("/after-sales/{public_id}/return-shipment", response={200: AfterSaleOut, **ERRORS})
def aftersale_return_shipment(request, public_id: str, data: ReturnShipmentIn):
    """Tell the shop how the goods are coming back (after the return was approved)."""
    return aftersale_return_shipped(
        shop=request.shop,
        shopper=request.auth,
        public_id=public_id,
        carrier=data.carrier,
        tracking=data.tracking_number,
    )


@router.post("/after-sales/{public_id}/withdraw", response={200: AfterSaleOut, **ERRORS})
def aftersale_withdraw_by_shopper(request, public_id: str):
    """Take back a request the shop has not acted on yet (409 once it has). The item may be asked
    about again within its window."""
    return aftersale_withdraw(shop=request.shop, shopper=request.auth, public_id=public_id)


@router.post("/after-sales/{public_id}/replacement-received", response={200: AfterSaleOut, **ERRORS})
def aftersale_replacement_received(request, public_id: str):
    """Confirm an exchange's replacement arrived (it is confirmed automatically after the same
    days as a shipped order)."""
    return aftersale_exchange_received(shop=request.shop, shopper=request.auth, public_id=public_id)
