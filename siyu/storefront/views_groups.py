"""Storefront pages for community groups: the join page of a group's link (/g/<code>/: sign in,
then join; its QR poster), leaving, and "my groups" — the groups a shopper is in and, for a group
leader (团长), their groups' figures (members, new this week, orders, revenue, repeat rate; no
member's personal data)."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from siyu.community.groups import selectors, services
from siyu.community.groups.attribution import group_for_code

from .group_middleware import group_link_seen
from .helpers import current_shopper, shopper_required
from .poster import invite_poster_png


def _group_or_404(request, code: str):
    group = group_for_code(shop=request.shop, code=code)
    if group is None:
        raise Http404()
    return group


@require_http_methods(["GET", "HEAD", "POST"])
def group_join(request, code: str):
    """GET: the group's page (a visit through its code). POST: join (signed in; else sign in first)."""
    shopper = current_shopper(request)
    if request.method == "POST":
        if shopper is None:
            return redirect(f"{reverse('storefront:login')}?next={reverse('storefront:group_join', args=[code])}")
        group = _group_or_404(request, code)
        joined = services.group_join(shop=request.shop, shopper=shopper, code=group.code)
        if joined.created:
            messages.success(request, _("Welcome to %(group)s!") % {"group": group.name})
        else:
            messages.info(request, _("You are already in this group."))
        return redirect("storefront:my_groups")
    group = group_link_seen(request, request.shop, code) or _group_or_404(request, code)
    context = {
        "group": group,
        "members": selectors.group_member_count(group=group),
        "joined": shopper is not None and selectors.is_member(group=group, shopper=shopper),
        "shopper": shopper,
    }
    return render(request, "storefront/groups/join.html", context)


@require_POST
@shopper_required
def group_leave(request, code: str):
    group = _group_or_404(request, code)
    if services.group_leave(shop=request.shop, shopper=current_shopper(request), code=group.code):
        messages.success(request, _("You left %(group)s.") % {"group": group.name})
    return redirect("storefront:my_groups")


@require_GET
@cache_control(max_age=600, public=True)
def group_poster(request, code: str):
    """The group's poster PNG: its name and a QR code of its join page."""
    group = _group_or_404(request, code)
    url = request.build_absolute_uri(reverse("storefront:group_join", args=[group.code]))
    lines = [group.get_kind_display(), _("Scan the code to join the group.")]
    png = invite_poster_png(shop=request.shop, share_url=url, title=group.name, lines=lines)
    return HttpResponse(png, content_type="image/png")


@require_GET
@shopper_required
def my_groups(request):
    shopper = current_shopper(request)
    led = selectors.groups_led_by(shop=request.shop, shopper=shopper)
    figures = selectors.group_figures(group_ids=[g.pk for g in led])
    context = {
        "led": [(g, figures[g.pk]) for g in led],
        "joined": selectors.groups_joined_by(shop=request.shop, shopper=shopper),
    }
    return render(request, "storefront/groups/my_groups.html", context)
