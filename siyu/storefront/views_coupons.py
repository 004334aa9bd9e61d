"""Coupon pages: the coupon centre (领券中心), my coupons, a coupon's claim page (share link) and
its share poster.

Thin: each view calls one selector or service. A claim link's ?ref= sharer code is already in the
session (the referral middleware keeps it, as for product share links)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from siyu.core.errors import DomainError
from siyu.core.money import format_yuan
from siyu.promotions.coupons.models import Coupon, CouponKind
from siyu.promotions.coupons.selectors import MY_TABS, centre_coupons, grants_of_shopper
from siyu.promotions.coupons.services import coupon_claim, coupon_of_shop
from siyu.referrals.services import REF_RE

from .helpers import current_shopper, not_found_as_404, shopper_required
from .poster import invite_poster_png


def coupon_words(coupon: Coupon) -> str:
    """What a coupon gives, in the shopper's words: "满¥100.00减¥20.00", "8.5折", "包邮"."""
    if coupon.kind == CouponKind.FREE_SHIPPING:
        text = _("Free shipping")
    elif coupon.kind == CouponKind.PERCENT_OFF:
        text = _("%(rate)s%% off") % {"rate": f"{coupon.percent_off_bp / 100:g}"}
    else:
        text = _("¥%(amount)s off") % {"amount": format_yuan(coupon.amount_off)}
    if coupon.min_spend:
        text = _("Spend ¥%(spend)s: %(what)s") % {"spend": format_yuan(coupon.min_spend), "what": text}
    return text


def _claim(request, public_id: str, source: str) -> None:
    try:
        coupon_claim(
            shop=request.shop,
            shopper=current_shopper(request),
            public_id=public_id,
            source=source,
            sharer_code=request.session.get("ref", "") if source == "link" else "",
        )
        messages.success(request, _("Coupon claimed. It is in My coupons."))
    except DomainError as exc:
        messages.error(request, exc.message)


@require_http_methods(["GET", "POST"])
def coupon_centre(request):
    if request.method == "POST":
        if current_shopper(request) is None:
            return shopper_required(coupon_centre)(request)
        _claim(request, str(request.POST.get("coupon", ""))[:16], "centre")
        return redirect("storefront:coupon_centre")
    coupons = centre_coupons(shop=request.shop, shopper=current_shopper(request))
    return render(request, "storefront/coupons/centre.html", {"coupons": [(c, coupon_words(c)) for c in coupons]})


@shopper_required
@require_http_methods(["GET"])
def my_coupons(request):
    tab = request.GET.get("tab", "available")
    tab = tab if tab in MY_TABS else "available"
    grants = list(grants_of_shopper(shop=request.shop, shopper=current_shopper(request), tab=tab)[:100])
    return render(
        request,
        "storefront/coupons/mine.html",
        {"grants": [(g, coupon_words(g.coupon)) for g in grants], "tab": tab, "tabs": MY_TABS},
    )


@not_found_as_404
@require_http_methods(["GET", "POST"])
def coupon_page(request, public_id: str):
    """A coupon's claim page (link-only coupons too): what the share link and poster open."""
    coupon = coupon_of_shop(shop=request.shop, public_id=public_id)
    if request.method == "POST":
        if current_shopper(request) is None:
            return shopper_required(coupon_page)(request, public_id)
        _claim(request, coupon.public_id, "link")
        return redirect("storefront:coupon", coupon.public_id)
    shopper = current_shopper(request)
    code = shopper.share_code if shopper is not None else ""
    return render(
        request,
        "storefront/coupons/claim.html",
        {"coupon": coupon, "words": coupon_words(coupon), "ref": code, "share_url": _claim_url(request, coupon, code)},
    )


def _claim_url(request, coupon: Coupon, code: str) -> str:
    url = request.build_absolute_uri(reverse("storefront:coupon", args=[coupon.public_id]))
    return f"{url}?ref={code}" if code else url


@require_GET
@cache_control(max_age=300, public=True)
@not_found_as_404
def coupon_poster(request, public_id: str):
    """The share poster: what the coupon gives and a QR code of its claim page carrying the
    sharer's code (?ref=), so friends who claim and later buy are counted as the sharer's."""
    ref = request.GET.get("ref", "")
    if ref and not REF_RE.match(ref):
        raise Http404()
    coupon = coupon_of_shop(shop=request.shop, public_id=public_id)
    lines = [coupon_words(coupon), _validity(coupon), _("Scan the code to claim it.")]
    png = invite_poster_png(
        shop=request.shop, share_url=_claim_url(request, coupon, ref), title=coupon.name, lines=[t for t in lines if t]
    )
    return HttpResponse(png, content_type="image/png")


def _validity(coupon: Coupon) -> str:
    if coupon.valid_days:
        return _("Valid for %(n)s days after claiming.") % {"n": coupon.valid_days}
    if coupon.valid_until:
        return _("Valid until %(date)s.") % {"date": timezone.localtime(coupon.valid_until).strftime("%Y-%m-%d")}
    return ""
