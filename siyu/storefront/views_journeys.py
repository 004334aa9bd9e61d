"""Tracked journey links: /j/<code>/ records the click and redirects to the journey's target
(siyu.campaigns.journeys.services.journey_link_follow does the work)."""

from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from siyu.campaigns.journeys.services import journey_link_follow
from siyu.core.errors import NotFound


@never_cache
@require_GET
def journey_link(request, code: str):
    try:
        path = journey_link_follow(shop=request.shop, code=code)
    except NotFound:
        raise Http404 from None
    return redirect(path)
