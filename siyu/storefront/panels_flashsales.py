"""Flash-sale panels: a countdown with a "buy now" button on the product page, and a banner for the
running (or next) session on the home page. No query when the shop runs no flash sale (a cached
per-shop flag, siyu.promotions.flashsales.selectors.flash_sales_on)."""

from django.utils import timezone

from siyu.promotions.flashsales.selectors import flash_item_for_product, flash_running_session, flash_sales_on

from .panels import Panel


def product_panel(request, product) -> Panel | None:
    if not flash_sales_on(shop_id=request.shop.pk):
        return None
    item = flash_item_for_product(shop=request.shop, product_id=product.pk)
    if item is None:
        return None
    now = timezone.now()
    return Panel(
        "storefront/flashsales/product_panel.html",
        {"item": item, "session": item.session, "running": item.session.starts_at <= now, "now": now},
    )


def home_panel(request) -> Panel | None:
    if not flash_sales_on(shop_id=request.shop.pk):
        return None
    session = flash_running_session(shop=request.shop)
    if session is None:
        return None
    now = timezone.now()
    return Panel("storefront/flashsales/home_panel.html", {"session": session, "running": session.starts_at <= now})
