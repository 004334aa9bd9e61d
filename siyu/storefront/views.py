"""Shopper pages: home, categories, search, product, share. Reads only, through the selectors."""

import re

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from siyu.accounts.agreements import AGREEMENT_VERSION
from siyu.catalog.models import Sku
from siyu.catalog.selectors import (
    categories_tree,
    category_get,
    product_for_shopper,
    products_featured,
    products_on_sale,
)
from siyu.core.money import format_yuan

from .helpers import current_shopper, not_found_as_404
from .panels import home_panels, product_panels
from .poster import poster_png

PAGE_SIZE = 20
REF_RE = re.compile(r"^[a-z0-9]{4,12}$")


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
def home(request):
    shop = request.shop
    return render(
        request,
        "storefront/home.html",
        {
            "featured": products_featured(shop=shop),
            "categories": categories_tree(shop=shop),
            "latest": list(products_on_sale(shop=shop)[:10]),
            "promo_panels": home_panels(request),
        },
    )


@require_GET
def categories(request):
    return render(request, "storefront/categories.html", {"categories": categories_tree(shop=request.shop)})


@require_GET
@not_found_as_404
def category(request, category_id: int):
    current = category_get(shop=request.shop, category_id=category_id)
    if not current.is_visible:
        raise Http404()
    page = _page(request, products_on_sale(shop=request.shop, category_id=current.pk))
    return render(request, "storefront/category.html", {"category": current, "page": page})


@require_GET
def search(request):
    q = request.GET.get("q", "").strip()[:50]
    page = _page(request, products_on_sale(shop=request.shop, q=q)) if q else None
    return render(request, "storefront/search.html", {"q": q, "page": page})


@require_GET
@not_found_as_404
def product(request, public_id: str):
    item = product_for_shopper(shop=request.shop, public_id=public_id)
    # Filled by the selector's Prefetch(to_attr=...), which the stubs cannot follow.
    active_skus: list[Sku] = item.active_skus  # type: ignore[attr-defined]
    skus = [
        {
            "id": s.pk,
            "values": s.spec_values,
            "price": s.price,
            "price_text": format_yuan(s.price),
            "list_price_text": format_yuan(s.list_price),
            "stock": s.stock,
        }
        for s in active_skus
    ]
    return render(
        request,
        "storefront/product.html",
        {
            "product": item,
            "skus": skus,
            "in_stock": any(s.stock > 0 for s in active_skus),
            "on_sale": item.status == "on_sale",
            "promo_panels": product_panels(request, item),
        },
    )


def _share_url(request, item, code: str) -> str:
    url = request.build_absolute_uri(reverse("storefront:product", args=[item.public_id]))
    return f"{url}?ref={code}" if code else url


def _sharer_code(request) -> str:
    shopper = current_shopper(request)
    if shopper is not None:
        return shopper.share_code
    staff = getattr(request.user, "staff", None) if request.user.is_authenticated else None
    return staff.share_code if staff is not None and staff.shop_id == request.shop.pk else ""


@require_GET
@not_found_as_404
def share(request, public_id: str):
    item = product_for_shopper(shop=request.shop, public_id=public_id)
    code = _sharer_code(request)
    return render(
        request,
        "storefront/share.html",
        {
            "product": item,
            "share_url": _share_url(request, item, code),
            "ref": code,
        },
    )


@require_GET
@cache_control(max_age=600, public=True)
@not_found_as_404
def poster(request, public_id: str):
    """A PNG poster: product image, name, price and a QR code of the share URL with the sharer's code."""
    item = product_for_shopper(shop=request.shop, public_id=public_id)
    ref = request.GET.get("ref", "")
    if ref and not REF_RE.match(ref):
        raise Http404()
    png = poster_png(product=item, shop=request.shop, share_url=_share_url(request, item, ref))
    return HttpResponse(png, content_type="image/png")


@require_GET
def agreement(request):
    """The shop's user agreement: the text the sign-in page links to, of AGREEMENT_VERSION."""
    return render(request, "storefront/agreement.html", {"version": AGREEMENT_VERSION})


@require_GET
def privacy_policy(request):
    return render(request, "storefront/privacy_policy.html", {"version": AGREEMENT_VERSION})
