"""Where payment providers send their asynchronous notifications: POST /api/payments/notify/<provider>/.

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
from siyu.payments.providers import provider_get, providers_enabled
from siyu.payments.services import payment_notify

from .errors import error_response

logger = logging.getLogger("siyu.payments.notify")


def _answer(backend, *, ok: bool, message: str = "", status: int | None = None) -> HttpResponse:
    ack_status, content_type, body = backend.ack(ok=ok, message=message)
    if not ok and status is not None and 400 <= status < 500:
        ack_status = status
    return HttpResponse(body, status=ack_status, content_type=f"{content_type}; charset=utf-8")


@csrf_exempt
@require_POST
def payment_notification(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in providers_enabled():
        return error_response("not_found", 404, {"provider": provider[:20]})
    backend = provider_get(provider)
    try:
        outcome = payment_notify(provider=provider, headers=dict(request.headers), body=request.body)
    except RequestDataTooBig:
        return _answer(backend, ok=False, message="too large", status=413)
    except DomainError as exc:  # NotificationRejected included: its code says why
        logger.warning("%s notification refused: %s %s", provider, exc.code, exc.detail)
        return _answer(backend, ok=False, message=exc.code, status=exc.status)
    except (UnicodeError, ValueError, TypeError, OverflowError):
        # Input the provider library could not parse (bytes that are not UTF-8, a header that is
        # not ASCII): still the sender's fault, so a 4xx, but logged in full to find the gap.
        logger.warning("%s notification unreadable", provider, exc_info=True)
        return _answer(backend, ok=False, message="malformed", status=400)
    logger.info("%s notification: %s", provider, outcome)
    return _answer(backend, ok=True)
