"""Shopper pages for pickup (自提): the QR image of an order's pickup code (the code itself shows on
the order page once paid), and the keeper's page where a group leader or shop assistant verifies
the codes of the points they keep."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from siyu.core.errors import DomainError
from siyu.orders.models import OrderStatus
from siyu.orders.pickup.codes import pickup_qr_png
from siyu.orders.pickup.selectors import pickup_for_order, pickup_points_kept_by
from siyu.orders.pickup.writeoff import pickup_verify
from siyu.orders.selectors import order_for_shopper

from .helpers import current_shopper, shopper_required

# The code is only worth showing once the order can be handed over.
SHOWN = (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)


@shopper_required
@require_GET
def pickup_qr(request, public_id: str):
    order = order_for_shopper(shop=request.shop, shopper=current_shopper(request), public_id=public_id)
    pickup = pickup_for_order(order=order)
    if pickup is None or order.status not in SHOWN:
        raise Http404()
    response = HttpResponse(pickup_qr_png(code=pickup.code), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@shopper_required
@require_http_methods(["GET", "POST"])
def keeper_verify(request):
    """For shoppers who keep a pickup point: type (or scan) a code to hand the order over."""
    shopper = current_shopper(request)
    points = pickup_points_kept_by(shop=request.shop, shopper=shopper)
    if not points:
        raise Http404()
    if request.method == "POST":
        try:
            entry = pickup_verify(shop=request.shop, code=request.POST.get("code", ""), keeper=shopper)
        except DomainError as exc:
            if exc.code == "already_picked_up":
                when = (exc.detail.get("verified_at") or "")[:16].replace("T", " ")
                messages.error(request, _("Already picked up at %(when)s.") % {"when": when})
            else:
                messages.error(request, exc.message)
        else:
            messages.success(request, _("Handed over: order %(number)s.") % {"number": entry.order.number})
        return redirect("storefront:pickup_keeper")
    return render(request, "storefront/pickup/keeper.html", {"points": points})
