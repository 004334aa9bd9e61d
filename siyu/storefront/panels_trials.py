"""Trial panels: "免费试用" on a product with a trial taking applications, and "my trials" on the me
page for a shop that has run trials. Both read the cached per-shop flags only
(siyu.community.trials.flags), so they cost no query once warm and one when the cache is cold."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.community.trials.flags import trial_flags
from siyu.community.trials.selectors import open_trial_for_product

from .panels import Panel


def product_panel(request, product) -> Panel | None:
    found = open_trial_for_product(shop=request.shop, product=product)
    if found is None:
        return None
    public_id, title = found
    return Panel(
        "storefront/trials/_product_panel.html", {"title": title, "url": reverse("storefront:trial", args=[public_id])}
    )


def my_links(request) -> list[tuple[str, str]]:
    if not trial_flags(shop_id=request.shop.pk).has_trials:
        return []
    return [(_("My trials"), reverse("storefront:my_trials"))]
