"""Shopper pages for reviews: a product's reviews (filters, pages), writing a review or its
follow-up for one order line, and "my reviews" (lines waiting for a review, reviews written)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from siyu.community.reviews import selectors, services
from siyu.community.reviews.flags import review_flags
from siyu.core.errors import DomainError
from siyu.core.settings_rows import yes_no

from .helpers import current_shopper, not_found_as_404, shopper_required

PER_PAGE = 10


@require_GET
@not_found_as_404
def product_reviews(request, public_id: str):
    product = selectors.product_for_reviews(shop=request.shop, public_id=public_id)
    show = request.GET.get("show", "all")
    show = show if show in selectors.SHOW_CHOICES else "all"
    page = Paginator(selectors.product_reviews(shop=request.shop, product=product, show=show), PER_PAGE).get_page(
        request.GET.get("page")
    )
    words = review_flags(shop_id=request.shop.pk).words
    return render(
        request,
        "storefront/reviews/product_reviews.html",
        {
            "product": product,
            "show": show,
            "page": page,
            "reviews": selectors.shown(page.object_list, words=words),
            "counts": selectors.product_review_counts(shop=request.shop, product=product),
        },
    )


@shopper_required
@require_http_methods(["GET", "POST"])
def line_review(request, public_id: str, line_id: int):
    shopper = current_shopper(request)
    line = selectors.line_of_shopper(shop=request.shop, shopper=shopper, order_public_id=public_id, line_id=line_id)
    review = getattr(line, "review", None)
    error, status = None, 200
    if request.method == "POST":
        photos = request.FILES.getlist("photos")
        try:
            if review is None:
                services.review_create(
                    shop=request.shop,
                    shopper=shopper,
                    line_id=line.pk,
                    rating=request.POST.get("rating", ""),
                    text=request.POST.get("text", "")[:600],
                    photos=photos,
                    anonymous=bool(yes_no(request.POST.get("anonymous", ""))),
                )
                messages.success(request, _("Thank you for your review."))
            else:
                services.review_followup(
                    shop=request.shop,
                    shopper=shopper,
                    public_id=review.public_id,
                    text=request.POST.get("text", "")[:600],
                    photos=photos,
                )
                messages.success(request, _("Your follow-up was added."))
            return redirect("storefront:product", line.product.public_id)
        except DomainError as exc:
            error, status = exc, exc.status
    return render(
        request,
        "storefront/reviews/line_review.html",
        {"line": line, "order": line.order, "review": review, "error": error, "stars": range(5, 0, -1)},
        status=status,
    )


@shopper_required
@require_GET
def my_reviews(request):
    shopper = current_shopper(request)
    waiting = list(selectors.reviewable_lines(shop=request.shop, shopper=shopper)[:50])
    written = Paginator(selectors.my_reviews(shop=request.shop, shopper=shopper), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "storefront/reviews/my_reviews.html", {"waiting": waiting, "written": written})
