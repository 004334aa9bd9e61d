"""One error family for every rule a request can break.

Each error carries a stable code (what clients switch on), a translatable message (what people
read) and structured detail. Interfaces map them to 4xx responses with the body
{"code", "message", "detail"}.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "invalid"
    status = 400
    default_message = _("The request could not be completed.")

    def __init__(self, message: Any = None, *, code: str | None = None, detail: Any = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        self.detail = detail if detail is not None else {}
        super().__init__(str(self.message))

    def as_body(self) -> dict:
        return {"code": self.code, "message": str(self.message), "detail": self.detail}


class InvalidInput(DomainError):
    code = "invalid_input"
    default_message = _("Some of the input is not valid.")


class NotFound(DomainError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403
    default_message = _("You are not allowed to do this.")


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
    default_message = _("Please sign in first.")


class Conflict(DomainError):
    code = "conflict"
    status = 409
    default_message = _("This conflicts with the current state.")


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Please try again later.")


class ProviderUnavailable(DomainError):
    """A payment provider that is down, slow or unreachable: not the caller's fault, and worth
    retrying later, so a 503 rather than a 4xx or a 500."""

    code = "provider_unavailable"
    status = 503
    default_message = _("The payment service cannot be reached right now. Please try again in a moment.")


class ProviderError(ProviderUnavailable):
    """A provider answered, but with an error or something we cannot read (a bad gateway)."""

    code = "provider_error"
    status = 502
    default_message = _("The payment service answered with an error. Please try again in a moment.")


def error_body(code: str, message: Any, detail: Any = None) -> dict:
    return {"code": code, "message": str(message), "detail": detail if detail is not None else {}}
