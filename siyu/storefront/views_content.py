"""Shopper pages of the content library: today's posts for sharers (copy the text, save the images,
every link carrying the sharer's own code), a post's link (/m/<code>/: records the click, keeps the
visit in the session so a later order can be linked to the post, then leads to the product) and the
post's product poster with a QR code of that link. The work is done by siyu.community.content."""

import secrets

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from siyu.community.content import selectors, tracking
from siyu.core.errors import DomainError, NotFound
from siyu.referrals.services import REF_RE

from .helpers import current_shopper, not_found_as_404
from .poster import poster_png

SESSION_KEY, VISITOR_KEY = "content_post", "content_visitor"


def _staff_of_shop(request):
    staff = getattr(request.user, "staff", None) if request.user.is_authenticated else None
    return staff if staff is not None and staff.shop_id == request.shop.pk and staff.is_active else None


def _sharer(request):
    """(shopper, staff, share code) of whoever shares from this browser; code "" for nobody."""
    shopper = current_shopper(request)
    if shopper is not None:
        return shopper, None, shopper.share_code
    staff = _staff_of_shop(request)
    return None, staff, staff.share_code if staff is not None else ""


def _link(request, code: str, ref: str) -> str:
    url = request.build_absolute_uri(reverse("storefront:content_post", args=[code]))
    return f"{url}?ref={ref}" if ref else url


def _card(request, post, ref: str, now) -> dict:
    link = _link(request, post.code, ref)
    poster = ""
    if post.poster and post.product_id:
        poster = reverse("storefront:content_poster", args=[post.code]) + f"?ref={ref}"
    return {
        "post": post,
        "link": link,
        "images": post.image_urls,
        "poster": poster,
        "due": post.publish_at <= now,
        "copy_text": selectors.copy_text(post, link),
    }


@never_cache
@require_GET
def today(request):
    shopper, staff, ref = _sharer(request)
    if not ref:
        return redirect(f"{reverse('storefront:login')}?next={request.path}")
    now = timezone.now()
    posts = selectors.posts_of_day(shop=request.shop)
    return render(
        request,
        "storefront/content/today.html",
        {"cards": [_card(request, p, ref, now) for p in posts], "ref": ref, "as_staff": staff is not None},
    )


@never_cache
@require_GET
def post_link(request, code: str):
    """A post's link. The referral middleware has already recorded `?ref` for the sharer."""
    ref = request.GET.get("ref", "")
    ref = ref if REF_RE.match(ref) else ""
    session = request.session
    key = session.get(VISITOR_KEY) or secrets.token_urlsafe(18)
    shopper, _staff, own = _sharer(request)
    try:
        landed = tracking.post_visit_record(
            shop=request.shop, code=code, visitor_key=key, ref_code=ref, shopper=shopper, own_code=own
        )
    except NotFound:
        raise Http404 from None
    if landed.visit is not None:
        session[VISITOR_KEY] = key
        session[SESSION_KEY] = {"visit": landed.visit.pk, "shop": request.shop.pk, "bound": shopper is not None}
    product = landed.post.product
    if product is not None and product.status != "draft":
        return redirect("storefront:product", product.public_id)
    return redirect("storefront:home")


@require_GET
@cache_control(max_age=600, public=True)
@not_found_as_404
def post_poster(request, code: str):
    """The post's product poster; its QR code is the post's link with the sharer's code."""
    post = selectors.post_for_link(shop=request.shop, code=code)
    ref = request.GET.get("ref", "")
    if (ref and not REF_RE.match(ref)) or not post.poster or post.product is None or post.product.status == "draft":
        raise Http404()
    png = poster_png(product=post.product, shop=request.shop, share_url=_link(request, post.code, ref))
    return HttpResponse(png, content_type="image/png")


@require_POST
def post_share(request, code: str):
    """One tap of copy (kind=copy) or save (kind=save) on today's page, sent by content.js."""
    shopper, staff, ref = _sharer(request)
    if not ref:
        return JsonResponse({"code": "not_authenticated", "message": "", "detail": {}}, status=401)
    try:
        share = tracking.post_share_record(
            shop=request.shop, code=code, kind=request.POST.get("kind", ""), shopper=shopper, staff=staff
        )
    except DomainError as exc:
        return JsonResponse(exc.as_body(), status=exc.status)
    return JsonResponse({"kind": share.kind}, status=201)
