"""Every error the API returns has the body {"code", "message", "detail", "request_id"}.

Status codes, one meaning each: 400 the input is not acceptable (schema checks and the services'
rules alike, code invalid_input or a more specific one), 401 not signed in, 403 not allowed,
404 not found, 405 wrong method, 409 conflicts with the current state, 413 too large,
415 the body is not JSON (or multipart/form-data where an operation takes files), 429 too many
requests, 5xx our fault or a provider's (502/503 provider_error/provider_unavailable). 422 is not
used. The request id is the one in the X-Request-ID response header and in the server's log.
"""

import logging
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from siyu.core.errors import DomainError, error_body
from siyu.core.request_id import current_request_id

from .schemas import has_control_characters

logger = logging.getLogger("siyu.api")
E = TypeVar("E", bound=Exception)

MESSAGES = {
    "not_authenticated": _("Please sign in first."),
    "invalid_input": _("Some of the input is not valid."),
    "malformed_request": _("The request body could not be read. Send valid JSON."),
    "csrf_failed": _("The CSRF check failed. Send the X-CSRFToken header with session sign-in."),
    "permission_denied": _("You are not allowed to do this."),
    "not_found": _("Not found."),
    "method_not_allowed": _("This method is not allowed here."),
    "too_large": _("The request is too large."),
    "unsupported_media_type": _("Send the request body as JSON (Content-Type: application/json)."),
    "rate_limited": _("Too many requests. Please try again later."),
    "server_error": _("Something went wrong on our side. Please try again."),
}


class UnsupportedMediaType(DomainError):
    """A body the operation does not read as sent: cross-site forms can post text/plain or
    urlencoded bodies without a preflight, so only JSON (and multipart where files are taken) is
    ever parsed."""

    code = "unsupported_media_type"
    status = 415
    default_message = MESSAGES["unsupported_media_type"]


def _json(body: dict, status: int) -> JsonResponse:
    body["request_id"] = current_request_id()
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def error_response(code: str, status: int, detail=None, *, message=None) -> JsonResponse:
    return _json(error_body(code, message if message is not None else MESSAGES[code], detail), status)


def domain_error_response(exc: DomainError) -> JsonResponse:
    return _json(exc.as_body(), exc.status)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    if isinstance(exc, AuthenticationError) or status == 401:
        return error_response("not_authenticated", 401)
    if isinstance(exc, Throttled) or status == 429:
        return error_response("rate_limited", 429, {"retry_after": getattr(exc, "wait", None)})
    if status == 403 and "CSRF" in exc.message:
        return error_response("csrf_failed", 403)
    if status == 403:
        return error_response("permission_denied", 403)
    if isinstance(exc.__cause__, DomainError):  # raised by our parser; ninja wraps it in a 400
        return domain_error_response(exc.__cause__)
    if status == 400:
        return error_response("malformed_request", 400)
    return error_response("invalid_input", status, message=exc.message)


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Still a bug if we get here; log it with the traceback but keep the promised body shape.
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response("server_error", 500)


def _on(api: NinjaAPI, exc_class: type[E], respond: Callable[[HttpRequest, E], HttpResponse]) -> None:
    """Answer `exc_class` (and its subclasses) with `respond`.

    ninja types a handler's second argument as `E | type[E]`, yet always calls it with the raised
    instance (`NinjaAPI.on_exception` looks the handler up by `type(exc).__mro__`, which a class
    would not match), so handlers here take the instance."""
    api.add_exception_handler(exc_class, respond)  # type: ignore[arg-type]  # ninja's ExcHandler stub, see above


def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response("invalid_input", 400, {"errors": exc.errors})


def install_error_handlers(api: NinjaAPI) -> None:
    _on(api, DomainError, lambda request, exc: domain_error_response(exc))
    _on(api, ValidationError, _validation_error)
    _on(api, HttpError, _http_error)
    _on(api, Http404, lambda request, exc: error_response("not_found", 404))
    _on(api, DjangoPermissionDenied, lambda request, exc: error_response("permission_denied", 403))
    _on(api, RequestDataTooBig, lambda request, exc: error_response("too_large", 413))
    _on(api, MultiPartParserError, lambda request, exc: error_response("malformed_request", 400))
    _on(api, SuspiciousOperation, lambda request, exc: error_response("malformed_request", 400))
    _on(api, Exception, _server_error)


BODY_TYPES = ("application/json", "multipart/form-data")


def has_body(request: HttpRequest) -> bool:
    # From the header, not request.body: that cannot be read once a multipart body was parsed.
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return True


def _refused_url(request: HttpRequest) -> dict | None:
    """What no operation accepts in its URL: control characters in the path or a query value, and
    blank query values (`?limit=`), which would otherwise silently mean the default."""
    if has_control_characters(request.path):
        return {"path": "control characters are not allowed"}
    for name, values in request.GET.lists():
        if has_control_characters(name) or has_control_characters(values):
            return {"query": {name[:40]: "control characters are not allowed"}}
        if any(value == "" for value in values):
            return {"query": {name[:40]: "may not be blank; leave the parameter out instead"}}
    return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def json_errors(view):
    """Wrap a URL's view so the 404 and 405 answers Django and ninja build themselves (outside the
    exception handlers) also carry the error body."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if has_body(request) and request.content_type not in BODY_TYPES:
            return error_response("unsupported_media_type", 415, {"content_type": (request.content_type or "")[:100]})
        refused = _refused_url(request)
        if refused:
            return error_response("invalid_input", 400, refused)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response("not_found", 404)
        if response.status_code == 405 and not _is_json(response):
            allowed = sorted(m.strip() for m in response.get("Allow", "").split(",") if m.strip())
            replacement = error_response("method_not_allowed", 405, {"allowed": allowed})
            replacement["Allow"] = ", ".join(allowed)
            return replacement
        if response.status_code == 404 and not _is_json(response):
            return error_response("not_found", 404)
        return response

    # ninja's views do their own CSRF check (session sign-in only), so keep them exempt from Django's.
    return csrf_exempt(wrapped) if getattr(view, "csrf_exempt", False) else wrapped


def not_found_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return error_response("not_found", 404, {"path": request.path})
