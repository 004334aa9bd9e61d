"""One id per request, so a line in the log, an error body a customer screenshots and the answer a
load balancer saw can be matched.

The middleware keeps a sane incoming X-Request-ID (set by a proxy in front of us, or by a client
retrying) and otherwise makes one; it echoes the id in the response header. The id also lives in a
context variable, read by `RequestIdFilter` so every log line of the request carries it, and by
the API's error bodies.
"""

import logging
import re
import uuid
from contextvars import ContextVar

HEADER = "X-Request-ID"
# Letters, digits and a few separators, at most 64: enough for UUIDs and proxies' trace ids, while
# anything longer or odd (newlines for log forging, markup) is replaced rather than trusted.
_SANE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")
_current: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    """The id of the request being handled, or "" outside a request (tasks, commands)."""
    return _current.get()


def request_id_for(incoming: str | None) -> str:
    if incoming and _SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request) for the log format to show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            # Django reports a 5xx answer after the middleware has returned; its record carries
            # the request itself.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", "") or current_request_id() or "-"
        return True
