"""The trial order's price: the selected shopper's one unit at 0, postage paid by the shop.

Asked only when the order names a trial application (`options={"trial": "<application public
id>"}`), which only siyu.community.trials.selection does (the storefront checkout passes no such
option), so every other checkout costs these hooks nothing. The offer is `exclusive`: no other
promotion prices the line. The application is taken in the order's own transaction (order.placed:
a conditional UPDATE, so it unlocks one order only) and freed again if that order is cancelled.

Shipping: the seller pays it (a free-shipping adjustment), so the order's total is 0 and it is
marked paid with provider "free" at once.
"""

from typing import Any

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict, NotFound
from siyu.core.events import event_order_id, subscribe
from siyu.orders.pricing import Adjustment, LinePrice, PricingLine, register_adjuster, register_line_pricer

from .models import ApplicationStatus, TrialApplication, TrialStatus

KIND = "trial"
OPTION = "trial"


def _application_for_checkout(*, shop, shopper, public_id: str) -> TrialApplication:
    application = (
        TrialApplication.objects.filter(shop=shop, shopper=shopper, public_id=str(public_id)[:16])
        .select_related("trial")
        .first()
    )
    if application is None:
        raise NotFound(_("This trial is not yours or does not exist."), detail={"trial": str(public_id)[:16]})
    if (
        application.status != ApplicationStatus.SELECTED
        or application.order_id is not None
        or application.trial.status not in (TrialStatus.SELECTING, TrialStatus.RUNNING)
    ):
        raise Conflict(_("This trial item has already been ordered or is not yours to order."), code="trial_used")
    return application


def trial_line_prices(*, shop, shopper, lines: list[PricingLine], options: dict, **unused: Any) -> dict[int, LinePrice]:
    ref = str(options.get(OPTION) or "")
    if not ref or shopper is None:
        return {}
    application = _application_for_checkout(shop=shop, shopper=shopper, public_id=ref)
    if len(lines) != 1 or lines[0].sku_id != application.trial.sku_id or lines[0].quantity != 1:
        raise Conflict(_("A trial order holds one piece of the trial item only."), code="trial_one_piece")
    return {
        lines[0].sku_id: LinePrice(
            unit_price=0, kind=KIND, label=str(_("Trial")), ref=application.public_id, exclusive=True
        )
    }


def trial_free_shipping(*, options: dict, lines: list[PricingLine], **unused: Any) -> list[Adjustment]:
    """The shop pays the trial's postage (only once the line pricer priced the line as a trial)."""
    if options.get(OPTION) and lines and all(ln.promotion == KIND for ln in lines):
        return [Adjustment(kind=KIND, label=str(_("Trial: postage paid by the shop")), free_shipping=True)]
    return []


register_line_pricer(trial_line_prices)
register_adjuster(trial_free_shipping, priority=5)


def application_order_take(*, shop_id: int, shopper_id: int, ref: str, order_id: int) -> None:
    """In the order's transaction (order.placed): the application unlocks this order, once.
    Nothing taken (ordered meanwhile, or not selected) refuses, which rolls the order back."""
    taken = TrialApplication.objects.filter(
        shop_id=shop_id,
        public_id=ref,
        shopper_id=shopper_id,
        status=ApplicationStatus.SELECTED,
        order__isnull=True,
    ).update(order_id=order_id, orders_placed=F("orders_placed") + 1)
    if not taken:
        raise Conflict(_("This trial item has already been ordered or is not yours to order."), code="trial_used")


def application_order_cancelled(*, order_id: int) -> int:
    """In the cancelling transaction (order.cancelled): the application may unlock a new order."""
    return TrialApplication.objects.filter(order_id=order_id).update(order=None)


@subscribe("order.placed", in_transaction=True)
def take_on_place(event) -> None:
    for name in event.payload.get("promotions") or []:
        kind, _sep, ref = str(name).partition(":")
        if kind == KIND:
            application_order_take(
                shop_id=event.shop_id,
                shopper_id=int(event.payload["shopper"]),
                ref=ref,
                order_id=event_order_id(event),
            )


@subscribe("order.cancelled", in_transaction=True)
def free_on_cancel(event) -> None:
    application_order_cancelled(order_id=event_order_id(event))
