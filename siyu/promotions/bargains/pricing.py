"""The bargain's line pricer: the starter buys its SKU, one piece, at the price the bargain reached.

Asked only when the shopper chose it (`promotion="bargain:<bargain public id>"`), so any other
checkout costs it nothing. The offer's `ref` is the campaign's public id, which orders and
per-promotion results carry ("bargain:<campaign>"); the bargain itself is found again from the
campaign and the shopper when the order is placed (one live bargain per shopper and campaign).
"""

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict, NotFound
from siyu.orders.pricing import LinePrice, PricingLine, register_line_pricer

from .models import Bargain, BargainCampaign

KIND = "bargain"


def bargain_for_checkout(*, shop, shopper, bargain_id: str) -> Bargain:
    """The shopper's own bargain, if it may be bought now (Conflict saying why not)."""
    bargain = (
        Bargain.objects.filter(shop=shop, starter=shopper, public_id=str(bargain_id)[:16])
        .select_related("campaign")
        .first()
    )
    if bargain is None:
        raise NotFound(_("This bargain is not yours or does not exist."), detail={"promotion": "unknown bargain"})
    if (
        bargain.status != Bargain.Status.OPEN
        or bargain.deadline <= timezone.now()
        or bargain.campaign.status != BargainCampaign.Status.ACTIVE
    ):
        raise Conflict(_("This bargain can no longer be bought."), code="bargain_unavailable")
    if bargain.current_price > bargain.floor_price and not bargain.campaign.buy_at_current:
        raise Conflict(
            _("Ask more friends to help: this bargain can be bought once it reaches its lowest price."),
            code="bargain_not_at_floor",
            detail={"current_price": bargain.current_price, "floor_price": bargain.floor_price},
        )
    return bargain


def bargain_line_prices(
    *, shop, shopper, lines: list[PricingLine], options: dict, **unused: Any
) -> dict[int, LinePrice]:
    promotion = str(options.get("promotion") or "")
    if not promotion.startswith(f"{KIND}:") or shopper is None:
        return {}
    bargain = bargain_for_checkout(shop=shop, shopper=shopper, bargain_id=promotion.partition(":")[2])
    line = next((ln for ln in lines if ln.sku_id == bargain.campaign.sku_id), None)
    if line is None or line.quantity != 1:
        raise Conflict(_("A bargain buys one piece of its own item."), code="bargain_one_piece")
    return {
        line.sku_id: LinePrice(
            unit_price=bargain.current_price,
            kind=KIND,
            label=str(_("Bargain")),
            ref=bargain.campaign.public_id,
            exclusive=True,
        )
    }


register_line_pricer(bargain_line_prices)
