"""Where payment providers send their asynchronous notifications, payment and refund results alike:

    POST /api/payments/notify/<provider>/<shop slug>/   a shop's own merchant account
    POST /api/payments/notify/<provider>/               the shop the request is served for (the
                                                        default shop on the installation's host)

The shop in the URL chooses the credentials that verify the notification, and only that shop's
payments and refunds can be settled by it. WeChat Pay refund results (REFUND.* events) come to the
same URL as payments and are told apart by their signed event_type.

A plain Django view, not a ninja operation: the signature is over the exact bytes received, and
each provider wants its own answer (WeChat Pay a JSON body, Alipay the word "success"). Anything
forged, stale, mismatched or malformed is answered with a 4xx in the provider's failure format,
so the provider stops or retries; it is never a 500.
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError
from siyu.payments.providers import provider_get
from siyu.payments.services import payment_notify
from siyu.shops.selectors import shop_for_request

from .errors import error_response

logger = logging.getLogger("siyu.payments.notify")


def _answer(backend, *, ok: bool, message: str = "", status: int | None = None) -> HttpResponse:
    ack_status, content_type, body = backend.ack(ok=ok, message=message)
    if not ok and status is not None and 400 <= status < 500:
        ack_status = status
    return HttpResponse(body, status=ack_status, content_type=f"{content_type}; charset=utf-8")


@csrf_exempt
@require_POST
def payment_notification(request: HttpRequest, provider: str, shop_slug: str = "") -> HttpResponse:
    shop = shop_for_request(host="", slug=shop_slug) if shop_slug else getattr(request, "shop", None)
    try:
        backend = provider_get(provider, shop=shop) if shop is not None else None
    except DomainError:  # the shop has no account with this provider (or no such provider)
        backend = None
    if shop is None or backend is None:
        return error_response("not_found", 404, {"provider": provider[:20]})
    try:
        outcome = payment_notify(provider=provider, headers=dict(request.headers), body=request.body, shop=shop)
    except RequestDataTooBig:
        return _answer(backend, ok=False, message="too large", status=413)
    except DomainError as exc:  # NotificationRejected included: its code says why
        logger.warning("%s notification for %s refused: %s %s", provider, shop.slug, exc.code, exc.detail)
        return _answer(backend, ok=False, message=exc.code, status=exc.status)
    except (UnicodeError, ValueError, TypeError, OverflowError):
        # Input the provider library could not parse (bytes that are not UTF-8, a header that is
        # not ASCII): still the sender's fault, so a 4xx, but logged in full to find the gap.
        logger.warning("%s notification unreadable", provider, exc_info=True)
        return _answer(backend, ok=False, message="malformed", status=400)
    logger.info("%s notification for %s: %s", provider, shop.slug, outcome)
    return _answer(backend, ok=True)
