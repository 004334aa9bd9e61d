"""Group-buy pages: a group (members, time left, join and share), its share poster, my groups."""

import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from PIL import Image, ImageDraw

from siyu.core.money import format_yuan
from siyu.promotions.groupbuys.models import GroupStatus
from siyu.promotions.groupbuys.selectors import group_for_page, my_group_members
from siyu.referrals.services import REF_RE

from .helpers import current_shopper, not_found_as_404, shopper_required
from .poster import ACCENT, HEIGHT, WIDTH, _font, _product_image, _qr, _wrap


def _share_url(request, group, code: str) -> str:
    url = request.build_absolute_uri(reverse("storefront:group", args=[group.public_id]))
    return f"{url}?ref={code}" if code else url


@require_GET
@not_found_as_404
def group_page(request, public_id: str):
    group = group_for_page(shop=request.shop, public_id=public_id)
    shopper = current_shopper(request)
    members = group.shown_members  # type: ignore[attr-defined]  # Prefetch(to_attr=…)
    mine = shopper is not None and any(m.shopper_id == shopper.pk for m in members)
    price = group.campaign.prices.all()[0]
    joinable = group.status == GroupStatus.OPEN and group.deadline > timezone.now() and not mine
    code = shopper.share_code if shopper is not None else ""
    return render(
        request,
        "storefront/groupbuys/group.html",
        {
            "group": group,
            "campaign": group.campaign,
            "product": group.campaign.product,
            "members": members,
            "empty_seats": range(group.missing),
            "price": price,
            "mine": mine,
            "joinable": joinable,
            "promotion": f"group_buy:{group.campaign.public_id}:{group.public_id}",
            "share_url": _share_url(request, group, code),
            "ref": code,
        },
    )


@require_GET
@cache_control(max_age=300, public=True)
@not_found_as_404
def group_poster(request, public_id: str):
    """A PNG poster of the group: product, group price, "N more wanted" and a QR code of the
    group's link carrying the sharer's code."""
    group = group_for_page(shop=request.shop, public_id=public_id)
    ref = request.GET.get("ref", "")
    if ref and not REF_RE.match(ref):
        raise Http404()
    price = min(p.group_price for p in group.campaign.prices.all())
    png = group_poster_png(
        product=group.campaign.product,
        shop=request.shop,
        share_url=_share_url(request, group, ref),
        headline=f"{group.size}人团 ¥{format_yuan(price)}",
        missing=group.missing,
    )
    return HttpResponse(png, content_type="image/png")


@shopper_required
@require_GET
def my_groups(request):
    members = list(my_group_members(shop=request.shop, shopper=current_shopper(request))[:50])
    return render(request, "storefront/groupbuys/mine.html", {"members": members})


def group_poster_png(*, product, shop, share_url: str, headline: str, missing: int) -> bytes:
    """The product poster's layout (siyu.storefront.poster) with the group's offer and seats left."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    photo = _product_image(product)
    side = min(photo.size)
    left, top = (photo.width - side) // 2, (photo.height - side) // 2
    canvas.paste(photo.crop((left, top, left + side, top + side)).resize((WIDTH, WIDTH)), (0, 0))
    draw = ImageDraw.Draw(canvas)
    top = WIDTH + 24
    for i, line in enumerate(_wrap(draw, product.name, _font(34), 440, 2)):
        draw.text((32, top + i * 46), line, fill=(30, 30, 30), font=_font(34))
    draw.text((32, top + 104), headline, fill=ACCENT, font=_font(48))
    if missing:
        draw.text((32, top + 170), f"还差 {missing} 人成团 / {missing} more to go", fill=(90, 90, 90), font=_font(26))
    draw.text((32, HEIGHT - 60), shop.name, fill=(110, 110, 110), font=_font(26))
    canvas.paste(_qr(share_url, 230), (WIDTH - 230 - 28, top))
    draw.text((WIDTH - 230 - 28, top + 238), "长按识别 / Scan", fill=(140, 140, 140), font=_font(22))
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()
