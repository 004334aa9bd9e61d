"""Every error the API returns has the body {"code", "message", "detail"}."""

import logging
from functools import wraps

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from siyu.core.errors import DomainError, error_body

logger = logging.getLogger("siyu.api")

MESSAGES = {
    "not_authenticated": _("Please sign in first."),
    "invalid_input": _("Some of the input is not valid."),
    "malformed_request": _("The request body could not be read. Send valid JSON."),
    "csrf_failed": _("The CSRF check failed. Send the X-CSRFToken header with session sign-in."),
    "permission_denied": _("You are not allowed to do this."),
    "not_found": _("Not found."),
    "method_not_allowed": _("This method is not allowed here."),
    "too_large": _("The request is too large."),
    "rate_limited": _("Too many requests. Please try again later."),
    "server_error": _("Something went wrong on our side. Please try again."),
}


def error_response(code: str, status: int, detail=None, *, message=None) -> JsonResponse:
    body = error_body(code, message if message is not None else MESSAGES[code], detail)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


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
    if status == 400:
        return error_response("malformed_request", 400)
    return error_response("invalid_input", status, message=exc.message)


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Still a bug if we get here; log it with the traceback but keep the promised body shape.
    logger.exception("API error on %s %s", request.method, request.path)
    return error_response("server_error", 500)


def install_error_handlers(api: NinjaAPI) -> None:
    api.add_exception_handler(
        DomainError,
        lambda request, exc: JsonResponse(exc.as_body(), status=exc.status, json_dumps_params={"ensure_ascii": False}),
    )
    api.add_exception_handler(
        ValidationError, lambda request, exc: error_response("invalid_input", 422, {"errors": exc.errors})
    )
    api.add_exception_handler(HttpError, _http_error)
    api.add_exception_handler(Http404, lambda request, exc: error_response("not_found", 404))
    api.add_exception_handler(DjangoPermissionDenied, lambda request, exc: error_response("permission_denied", 403))
    api.add_exception_handler(RequestDataTooBig, lambda request, exc: error_response("too_large", 413))
    api.add_exception_handler(MultiPartParserError, lambda request, exc: error_response("malformed_request", 400))
    api.add_exception_handler(SuspiciousOperation, lambda request, exc: error_response("malformed_request", 400))
    api.add_exception_handler(Exception, _server_error)


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def json_errors(view):
    """Wrap a URL's view so the 404 and 405 answers Django and ninja build themselves (outside the
    exception handlers) also carry the error body."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
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

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)
    return wrapped


def not_found_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return error_response("not_found", 404, {"path": request.path})
