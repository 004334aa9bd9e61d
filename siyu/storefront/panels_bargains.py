"""Bargain panels: "砍价最低 ¥X" on a product in a running campaign, and "my bargains" on the me
page. Read from the cached live campaigns only, so they cost no query (siyu.storefront.panels)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from siyu.accounts.selectors import SHOPPER_SESSION_KEY
from siyu.promotions.bargains.campaigns import live_campaigns

from .panels import Panel


def product_panel(request, product) -> Panel | None:
    now = timezone.now()
    running = [c for c in live_campaigns(shop_id=request.shop.pk) if c.product_id == product.pk and c.running(now)]
    if not running:
        return None
    best = min(running, key=lambda c: c.floor_price)
    signed_in = bool(request.session.get(SHOPPER_SESSION_KEY))
    return Panel(
        "storefront/bargains/_product_panel.html",
        {
            "campaign": best,
            "signed_in": signed_in,
            "login_url": reverse("storefront:login") + "?" + urlencode({"next": request.path}),
        },
    )


def my_links(request) -> list[tuple[str, str]]:
    return [(_("My bargains"), reverse("storefront:my_bargains"))]
