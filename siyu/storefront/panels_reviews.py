"""The reviews block of the product page: rating, count, the 买家秀 photo strip and the first
reviews with the shop's replies. One query when the shop has visible reviews, none when it has
none (cached per-shop flag, siyu.community.reviews.flags)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from siyu.community.reviews.selectors import product_review_summary

from .panels import Panel


def product_panel(request, product) -> Panel | None:
    summary = product_review_summary(shop=request.shop, product=product)
    if summary is None:
        return None
    return Panel("storefront/reviews/product_panel.html", {"summary": summary, "product": product})


def my_links(request) -> list[tuple[str, str]]:
    return [(_("My reviews"), reverse("storefront:my_reviews"))]
