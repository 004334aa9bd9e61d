"""Tracked campaign links: /go/<code>/ records the click, keeps the attribution in the session
and redirects to the campaign's target (siyu.campaigns.outreach.tracking does the work)."""

from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from siyu.campaigns.outreach.tracking import SESSION_KEY, link_follow
from siyu.core.errors import NotFound


@never_cache
@require_GET
def campaign_link(request, code: str):
    try:
        followed = link_follow(shop=request.shop, code=code)
    except NotFound:
        raise Http404 from None
    request.session[SESSION_KEY] = followed.attribution
    return redirect(followed.path)
