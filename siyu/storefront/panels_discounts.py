"""Discount panels: on the product page the limited-time price (struck-through original, countdown),
the signed-in member's price and the 满减 activities the product counts toward; at checkout how much
more to spend for the next tier ("还差 ¥N 可减 ¥M"). No query when the shop runs no discount (cached
per-shop flags, siyu.promotions.discounts.flags)."""

from siyu.promotions.discounts.selectors import product_discounts, running_thresholds
from siyu.promotions.discounts.thresholds import threshold_reached

from .helpers import current_shopper
from .panels import Panel


def product_panel(request, product) -> Panel | None:
    skus = list(getattr(product, "active_skus", None) or product.skus.filter(is_active=True))
    found = product_discounts(shop=request.shop, product=product, skus=skus, shopper=current_shopper(request))
    if not found:
        return None
    return Panel(
        "storefront/discounts/product_panel.html",
        {"found": found, "ends_at": found.ends_at, "several": len(skus) > 1},
    )


def checkout_panel(request, quote) -> Panel | None:
    activities = running_thresholds(shop=request.shop)
    if not activities or not quote.lines:
        return None
    lines = [ln.pricing_line() for ln in quote.lines]
    reached = [threshold_reached(a, lines) for a in activities]
    applied = [a.ref for a in quote.adjustments if a.kind == "threshold_discount"]
    # (shortfall, what it would save, activity): the nearest next tier that saves more than today
    upcoming = [
        (r.next_tier["threshold"] - r.eligible, r.next_saving, r.activity)
        for r in reached
        if r.next_tier and r.next_saving > r.saving
    ]
    if not upcoming:
        return None
    short, saving, activity = min(upcoming, key=lambda u: u[0])
    return Panel(
        "storefront/discounts/checkout_panel.html",
        {
            "activity": activity,
            "short": short,
            "saving": saving,
            "applied": activity.public_id in applied,
        },
    )
