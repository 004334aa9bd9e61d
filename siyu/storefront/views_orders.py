"""Shopper pages for buying: cart, checkout, pay, orders, receipt and after-sales."""

import secrets

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from siyu.accounts.selectors import addresses_of
from siyu.core.errors import DomainError
from siyu.orders.cart import OFF_SALE, SHORT, SOLD_OUT, CartRow, cart_view
from siyu.orders.checkout import cart_lines, cart_set, order_place, order_quote
from siyu.orders.lifecycle import order_cancel, order_confirm_receipt
from siyu.orders.models import AfterSaleKind
from siyu.orders.pickup.models import PickupPoint
from siyu.orders.pickup.selectors import pickup_for_order, pickup_points_for_checkout
from siyu.orders.selectors import order_for_shopper, orders_of_shopper
from siyu.orders.states import timeline_entries
from siyu.payments.aftersales import (
    aftersale_exchange_received,
    aftersale_request,
    aftersale_return_shipped,
    aftersale_withdraw,
)
from siyu.payments.providers import providers_enabled
from siyu.payments.selectors import payment_for_shopper
from siyu.payments.services import payment_start, sandbox_pay

from .checkout_display import checkout_breakdown
from .helpers import current_shopper, shopper_required
from .panels import checkout_panels

ORDER_TABS = ("pending_payment", "paid", "shipped", "completed")


def _items_from(request) -> list[dict]:
    skus, quantities = (
        request.POST.getlist("sku") or request.GET.getlist("sku"),
        (request.POST.getlist("quantity") or request.GET.getlist("quantity")),
    )
    return [{"sku": s, "quantity": q} for s, q in zip(skus, quantities, strict=False)]


def _chosen_lines(request) -> list[str]:
    """The cart lines ticked for checkout (by SKU id); none ticked means the whole cart."""
    return [v for v in (request.POST.getlist("line") or request.GET.getlist("line")) if v.isdigit()]


def _cart_items(request, *, shop, shopper) -> list[dict]:
    chosen = set(_chosen_lines(request))
    return [
        {"sku": ln.sku_id, "quantity": ln.quantity}
        for ln in cart_lines(shop=shop, shopper=shopper)
        if not chosen or str(ln.sku_id) in chosen
    ]


def _points(request) -> int:
    raw = request.POST.get("points") or request.GET.get("points") or "0"
    return int(raw) if raw.isdigit() and len(raw) <= 8 else 0


def _problem_text(row: CartRow) -> str:
    """Why a cart line cannot be bought now, in the shopper's words."""
    if row.problem == SHORT:
        return _("Only %(n)s left") % {"n": row.sku.stock}
    return {OFF_SALE: _("No longer on sale"), SOLD_OUT: _("Sold out")}.get(row.problem, "")


@shopper_required
@require_GET
def cart(request):
    view = cart_view(shop=request.shop, shopper=current_shopper(request))
    rows = [{"line": r.line, "sku": r.sku, "problem": _problem_text(r), "total": r.total} for r in view.rows]
    return render(
        request,
        "storefront/cart.html",
        {"rows": rows, "total": view.subtotal, "buyable": sum(1 for r in view.rows if r.available)},
    )


@shopper_required
@require_POST
def cart_update(request):
    try:
        cart_set(
            shop=request.shop,
            shopper=current_shopper(request),
            sku_id=request.POST.get("sku"),
            quantity=request.POST.get("quantity", 1),
            add=request.POST.get("mode") == "add",
        )
        if request.POST.get("mode") == "add":
            # The "cart" tag makes the page add a link to the cart after the message.
            messages.success(request, _("Added to cart."), extra_tags="cart")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("back") if request.POST.get("back", "").startswith("/") else "storefront:cart")


@shopper_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    shop, shopper = request.shop, current_shopper(request)
    from_cart = (request.POST.get("from_cart") or request.GET.get("from_cart")) == "1"
    items = _cart_items(request, shop=shop, shopper=shopper) if from_cart else _items_from(request)
    addresses = addresses_of(shop=shop, shopper=shopper)
    chosen = request.POST.get("address") or request.GET.get("address") or (addresses[0].public_id if addresses else "")
    address = next((a for a in addresses if a.public_id == chosen), None)
    pickup_points, pickup_point = _pickup_choice(request, shop=shop)
    province = pickup_point.province if pickup_point else address.province if address else ""
    error, status = None, 200
    if request.method == "POST":
        try:
            order = order_place(
                shop=shop,
                shopper=shopper,
                items=items,
                address_id="" if pickup_point else chosen,
                pickup_point=pickup_point.public_id if pickup_point else "",
                idempotency_key=request.POST.get("idempotency_key", ""),
                note=request.POST.get("note", "")[:300],
                confirm_no_returns=request.POST.get("confirm_no_returns") == "on",
                ref_code=request.session.get("ref", ""),
                from_cart=from_cart,
                options=_options(request),
            )
            return redirect("storefront:order_pay", order.public_id)
        except DomainError as exc:
            error, status = exc, exc.status
    try:
        quote = order_quote(
            shop=shop,
            items=items,
            province=province,
            shopper=shopper,
            options=_options(request),
            pickup=pickup_point is not None,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("storefront:cart")
    return render(
        request,
        "storefront/checkout.html",
        {
            "quote": quote,
            "items": items,
            "addresses": addresses,
            "address": address,
            "from_cart": from_cart,
            "idempotency_key": request.POST.get("idempotency_key") or secrets.token_urlsafe(16),
            "note": request.POST.get("note", ""),
            "error": error,
            "points": _points(request),
            "lines_chosen": _chosen_lines(request),
            "coupon": _param(request, "coupon"),
            "promotion": _param(request, "promotion"),
            "promo_panels": checkout_panels(request, quote),
            "pickup_points": pickup_points,
            "pickup_point": pickup_point,
            "fulfil": "pickup" if pickup_point else "delivery",
            **checkout_breakdown(shop=shop, shopper=shopper, quote=quote, province=province),
        },
        status=status,
    )


def _pickup_choice(request, *, shop) -> tuple[list, PickupPoint | None]:
    """The shop's pickup points (none, and no query, for a shop without) and the one chosen when
    the shopper picks up instead of having the order delivered (the first by default)."""
    points = pickup_points_for_checkout(shop=shop)
    if not points or _param(request, "fulfil") != "pickup":
        return points, None
    wanted = _param(request, "pickup_point")
    return points, next((p for p in points if p.public_id == wanted), points[0])


def _param(request, name: str) -> str:
    return str(request.POST.get(name) or request.GET.get(name) or "")[:80]


def _options(request) -> dict:
    """What the shopper chose at checkout: points, a coupon ("" picks the best one, "none" none) and a
    promotion they are buying through ("kind:ref": a flash sale, a group, a bargain)."""
    return {"points": _points(request), "coupon": _param(request, "coupon"), "promotion": _param(request, "promotion")}


@shopper_required
@require_GET
def orders(request):
    status = request.GET.get("status", "")
    qs = orders_of_shopper(
        shop=request.shop, shopper=current_shopper(request), status=status if status in ORDER_TABS else ""
    )
    return render(request, "storefront/orders.html", {"orders": list(qs[:50]), "status": status, "tabs": ORDER_TABS})


@shopper_required
@require_GET
def order_detail(request, public_id: str):
    order = order_for_shopper(shop=request.shop, shopper=current_shopper(request), public_id=public_id)
    return render(
        request,
        "storefront/order_detail.html",
        {
            "order": order,
            "kinds": AfterSaleKind.choices,
            "paying": request.GET.get("paying") == "1",
            "timeline": timeline_entries(order=order, for_shopper=True),
            "pickup": pickup_for_order(order=order),
        },
    )


@shopper_required
@require_http_methods(["GET", "POST"])
def order_pay(request, public_id: str):
    shopper = current_shopper(request)
    order = order_for_shopper(shop=request.shop, shopper=shopper, public_id=public_id)
    if request.method == "POST":
        try:
            action = payment_start(
                shop=request.shop,
                shopper=shopper,
                order_public_id=public_id,
                provider=request.POST.get("provider", ""),
                return_url=request.build_absolute_uri(reverse("storefront:order", args=[public_id])),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("storefront:order_pay", public_id)
        if action.kind == "redirect":
            return redirect(action.url)
        return render(request, "storefront/pay_qrcode.html", {"order": order, "action": action})
    return render(request, "storefront/pay.html", {"order": order, "providers": providers_enabled(shop=request.shop)})


@shopper_required
@require_http_methods(["GET", "POST"])
def sandbox_pay_page(request, out_trade_no: str):
    """The sandbox provider's own page: what a bank's checkout would show."""
    payment = payment_for_shopper(shop=request.shop, shopper=current_shopper(request), out_trade_no=out_trade_no)
    if request.method == "POST":
        try:
            sandbox_pay(payment=payment)
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(reverse("storefront:order", args=[payment.order.public_id]) + "?paying=1")
    return render(request, "storefront/sandbox_pay.html", {"payment": payment})


@shopper_required
@require_POST
def order_action(request, public_id: str):
    shopper = current_shopper(request)
    order = order_for_shopper(shop=request.shop, shopper=shopper, public_id=public_id)
    try:
        action = request.POST.get("action")
        if action == "cancel":
            # Stored as a code; the timeline shows it in the reader's language.
            order_cancel(order_id=order.pk, actor=shopper, reason="cancelled by the shopper")
        elif action == "receive":
            order_confirm_receipt(order_id=order.pk, actor=shopper, shopper_id=shopper.pk)
        elif action == "withdraw":
            aftersale_withdraw(shop=request.shop, shopper=shopper, public_id=request.POST.get("after_sale", ""))
        elif action == "exchange_received":
            aftersale_exchange_received(
                shop=request.shop, shopper=shopper, public_id=request.POST.get("after_sale", "")
            )
        elif action == "return_shipped":
            aftersale_return_shipped(
                shop=request.shop,
                shopper=shopper,
                public_id=request.POST.get("after_sale", ""),
                carrier=request.POST.get("carrier", ""),
                tracking=request.POST.get("tracking", ""),
            )
        else:
            raise Http404()
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("storefront:order", public_id)


@shopper_required
@require_http_methods(["GET", "POST"])
def aftersale_new(request, public_id: str, line_id: int):
    shopper = current_shopper(request)
    order = order_for_shopper(shop=request.shop, shopper=shopper, public_id=public_id)
    line = next((ln for ln in order.lines.all() if ln.pk == line_id), None)
    if line is None:
        raise Http404()
    error, status = None, 200
    if request.method == "POST":
        try:
            aftersale_request(
                shop=request.shop,
                shopper=shopper,
                order_public_id=public_id,
                line_id=line_id,
                kind=request.POST.get("kind", ""),
                quantity=request.POST.get("quantity", 0),
                reason_code=request.POST.get("reason_code", ""),
                reason=request.POST.get("reason", "")[:400],
                photos=request.FILES.getlist("photos"),
            )
            messages.success(request, _("Your request was sent. The shop will reply soon."))
            return redirect("storefront:order", public_id)
        except DomainError as exc:
            error, status = exc, exc.status
    return render(
        request,
        "storefront/aftersale_form.html",
        {
            "order": order,
            "line": line,
            "kinds": AfterSaleKind.choices,
            "error": error,
            "max_quantity": line.quantity - line.refunded_quantity,
        },
        status=status,
    )
