"""Tracked campaign links: /go/<code>/ records the click, keeps the attribution in the session
and redirects to the campaign's target (siyu.campaigns.outreach.tracking does the work).

And the SMS providers' reply callback, /sms/replies/<provider>/ (a shop other than the host's:
/s/<slug>/sms/replies/<provider>/, as every storefront path): a reply of TD
unsubscribes (siyu.campaigns.channels.sms_replies does the work; this door only maps its outcome to
the answer each provider expects). A plain view, as the payment notifications are: no session, no
CSRF (the shared token stands in for it), never a 500 on a bad body."""

import logging

from django.http import Http404, HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from siyu.campaigns.channels.sms_replies import PROVIDERS, provider_answer, sms_replies_receive
from siyu.campaigns.outreach.tracking import SESSION_KEY, link_follow
from siyu.core.errors import DomainError, NotFound

logger = logging.getLogger("siyu.channels.sms_replies")


@never_cache
@require_GET
def campaign_link(request, code: str):
    try:
        followed = link_follow(shop=request.shop, code=code)
    except NotFound:
        raise Http404 from None
    request.session[SESSION_KEY] = followed.attribution
    return redirect(followed.path)


@csrf_exempt
@require_POST
def sms_replies(request: HttpRequest, provider: str) -> JsonResponse:
    if provider not in PROVIDERS:
        return JsonResponse({"code": "not_found", "message": "unknown provider", "detail": None}, status=404)
    shop = getattr(request, "shop", None)
    token = request.GET.get("token") or request.headers.get("Siyu-Token", "")
    try:
        if shop is None:
            raise NotFound(detail={"shop": "unknown"})
        outcome = sms_replies_receive(shop=shop, provider=provider, token=token, body=request.body)
    except DomainError as exc:
        logger.warning("%s SMS replies refused: %s %s", provider, exc.code, exc.detail)
        return JsonResponse(provider_answer(provider, ok=False, message=exc.code), status=exc.status)
    logger.info("%s SMS replies for %s: %s", provider, shop.slug, outcome)
    return JsonResponse(provider_answer(provider, ok=True))
