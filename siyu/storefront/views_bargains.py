"""Shopper pages for bargains: the bargain page (anyone with the link may look), starting one,
helping a friend's, its share poster, and "my bargains". Each calls one service or selector."""

import secrets

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from siyu.core.errors import DomainError
from siyu.core.money import format_yuan
from siyu.core.security import client_ip
from siyu.promotions.bargains.campaigns import live_campaigns_refresh
from siyu.promotions.bargains.selectors import bargain_detail, bargain_progress, bargains_of_shopper
from siyu.promotions.bargains.services import bargain_help, bargain_start

from .helpers import current_shopper, not_found_as_404, shopper_required
from .poster import invite_poster_png
from .referral_middleware import VISITOR
from .views import REF_RE


def _device(request) -> str:
    """This browser's random visitor id (the one share visits use), made if it has none."""
    key = request.session.get(VISITOR)
    if not key:
        key = request.session[VISITOR] = secrets.token_urlsafe(18)
    return key


def _page_url(request, public_id: str, code: str = "") -> str:
    url = request.build_absolute_uri(reverse("storefront:bargain", args=[public_id]))
    return f"{url}?{urlencode({'ref': code})}" if code else url


@require_GET
@not_found_as_404
def bargain_page(request, public_id: str):
    bargain = bargain_detail(shop=request.shop, public_id=public_id)
    shopper = current_shopper(request)
    mine = shopper is not None and shopper.pk == bargain.starter_id
    helped = shopper is not None and any(h.helper_id == shopper.pk for h in bargain.helps.all())
    code = shopper.share_code if shopper is not None else ""
    progress = bargain_progress(bargain)
    checkout = (
        reverse("storefront:checkout")
        + "?"
        + urlencode({"sku": str(bargain.campaign.sku_id), "quantity": "1", "promotion": f"bargain:{bargain.public_id}"})
    )
    return render(
        request,
        "storefront/bargains/bargain.html",
        {
            "bargain": bargain,
            "campaign": bargain.campaign,
            "progress": progress,
            "shopper": shopper,
            "mine": mine,
            "helped": helped,
            "buyable": mine
            and bargain.status == "open"
            and progress.seconds_left > 0
            and (bargain.current_price == bargain.floor_price or bargain.campaign.buy_at_current),
            "checkout_url": checkout,
            "share_url": _page_url(request, bargain.public_id, code),
            "ref": code,
            "login_url": reverse("storefront:login") + "?" + urlencode({"next": request.path}),
        },
    )


@shopper_required
@require_POST
def bargain_start_view(request):
    try:
        started = bargain_start(
            shop=request.shop,
            shopper=current_shopper(request),
            campaign_id=request.POST.get("campaign", ""),
            device=_device(request),
            ip=client_ip(request),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        back = request.POST.get("back", "")
        return redirect(back if back.startswith("/") and not back.startswith("//") else "storefront:home")
    live_campaigns_refresh(shop_id=request.shop.pk)
    if not started.created:
        messages.info(request, _("You already have a bargain running for this item."))
    return redirect("storefront:bargain", started.bargain.public_id)


@shopper_required
@require_POST
def bargain_help_view(request, public_id: str):
    try:
        made = bargain_help(
            shop=request.shop,
            helper=current_shopper(request),
            bargain_id=public_id,
            device=_device(request),
            ip=client_ip(request),
        )
        messages.success(request, _("You cut ¥%(amount)s off. Thank you!") % {"amount": format_yuan(made.cut)})
    except DomainError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    return redirect("storefront:bargain", public_id)


@require_GET
@cache_control(max_age=300, public=True)
@not_found_as_404
def bargain_poster(request, public_id: str):
    """The share poster: the item, the floor to reach, and a QR code of the bargain page carrying
    the sharer's code (?ref=)."""
    ref = request.GET.get("ref", "")
    if ref and not REF_RE.match(ref):
        raise Http404()
    bargain = bargain_detail(shop=request.shop, public_id=public_id)
    lines = [
        bargain.campaign.product.name,
        _("Now ¥%(now)s, lowest ¥%(floor)s.")
        % {"now": format_yuan(bargain.current_price), "floor": format_yuan(bargain.floor_price)},
        _("Scan the code and help me cut the price."),
    ]
    png = invite_poster_png(
        shop=request.shop,
        share_url=_page_url(request, bargain.public_id, ref),
        title=_("Help me cut the price!"),
        lines=lines,
    )
    return HttpResponse(png, content_type="image/png")


@shopper_required
@require_GET
def my_bargains(request):
    rows = bargains_of_shopper(shop=request.shop, shopper=current_shopper(request))
    return render(request, "storefront/bargains/mine.html", {"bargains": rows})
