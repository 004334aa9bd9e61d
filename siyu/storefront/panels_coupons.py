"""Coupon panels (see panels.py): claimable coupons on the product page, the coupon choice at
checkout, and "My coupons" on the me page. No query when the shop runs no public coupon (product)
or the quote has no shopper coupon to offer (checkout reads the shopper's coupons once)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.promotions.coupons.checkout import coupon_offers
from siyu.promotions.coupons.selectors import product_coupons

from .helpers import current_shopper
from .panels import Panel
from .views_coupons import coupon_words


def product_panel(request, product) -> Panel | None:
    coupons = product_coupons(shop=request.shop, product=product)
    if not coupons:
        return None
    return Panel("storefront/coupons/_product_panel.html", {"coupons": [(c, coupon_words(c)) for c in coupons]})


def checkout_panel(request, quote) -> Panel | None:
    shopper = current_shopper(request)
    if shopper is None or not quote.lines:
        return None
    used = next((a for a in quote.adjustments if a.kind == "coupon"), None)
    prior = [a for a in quote.adjustments if a.kind not in ("coupon", "member_discount", "points")]
    offers = coupon_offers(
        shop=request.shop,
        shopper=shopper,
        lines=[ln.pricing_line() for ln in quote.lines],
        subtotal=quote.subtotal,
        shipping_fee=quote.shipping_fee if not (used and used.free_shipping) else _fee_before(quote),
        prior=prior,
    )
    if not offers:
        return None
    chosen = str(request.POST.get("coupon") or request.GET.get("coupon") or "")
    usable = [o for o in offers if o.usable]
    return Panel(
        "storefront/coupons/_checkout_panel.html",
        {
            "usable": usable,
            "unusable": [o for o in offers if not o.usable],
            "chosen": chosen or (usable[0].grant.public_id if usable and used else "none"),
            "blocked": next((a.label for a in prior if a.exclusive), ""),
        },
    )


def _fee_before(quote) -> int:
    from siyu.catalog.shipping import shipping_fee

    return sum(shipping_fee(ln.sku.product.shipping_template, subtotal=ln.line_total) for ln in quote.lines)


def my_links(request) -> list[tuple[str, str]]:
    return [
        (_("My coupons"), reverse("storefront:my_coupons")),
        (_("Coupon centre"), reverse("storefront:coupon_centre")),
    ]
