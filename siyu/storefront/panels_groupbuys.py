"""Group-buy panels: "N人团 ¥X" with open groups to join on the product page, and "My groups" on
the me page. No query when the shop never ran a group buy (a cached per-shop flag)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.promotions.groupbuys.campaigns import shop_runs_group_buys
from siyu.promotions.groupbuys.selectors import running_campaign_for_product

from .panels import Panel


def product_panel(request, product) -> Panel | None:
    found = running_campaign_for_product(shop=request.shop, product=product)
    if found is None:
        return None
    sku = found.campaign.prices.all()[0]
    return Panel(
        "storefront/groupbuys/product_panel.html",
        {"found": found, "campaign": found.campaign, "sku_id": sku.sku_id, "lowest": found.lowest_price},
    )


def my_links(request) -> list[tuple[str, str]]:
    if not shop_runs_group_buys(shop_id=request.shop.pk):
        return []
    return [(_("My group buys"), reverse("storefront:my_groups"))]
