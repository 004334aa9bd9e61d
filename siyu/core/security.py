"""Content-Security-Policy on every HTML page, and the caller's address behind proxies.

The policy allows scripts, styles, fonts and frames only from this site ('self'): no inline
<script>, no on*= handlers, no style= attributes. Page behaviour lives in static files under
*/static/*, and `tests/test_security.py` scans every template for inline code. A page that
really needs an inline script gets a per-request nonce: `{{ request.csp_nonce }}`, which the
middleware adds to script-src only when a page has asked for it.

Images may also come from data: and blob: URLs (Swagger UI's icons; previews of a picked file).
"""

import ipaddress
import secrets

from django.conf import settings
from django.utils.functional import SimpleLazyObject

POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def _policy_text(*, nonce: str | None) -> str:
    parts = []
    for directive, sources in POLICY.items():
        if directive == "script-src" and nonce:
            sources = [*sources, f"'nonce-{nonce}'"]
        parts.append(" ".join([directive, *sources]))
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every HTML response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        used: list[str] = []

        def make_nonce() -> str:
            used.append(secrets.token_urlsafe(18))
            return used[-1]

        # Lazy: a nonce is made (and allowed) only when a template reads it.
        request.csp_nonce = SimpleLazyObject(make_nonce)
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = _policy_text(nonce=used[0] if used else None)
        return response


def client_ip(request) -> str | None:
    """The caller's address. Behind N trusted reverse proxies (SIYU_TRUSTED_PROXIES=N) it is the
    N-th address from the right of X-Forwarded-For: anything further left was written by the
    caller and proves nothing. Without proxies it is REMOTE_ADDR."""
    raw = request.META.get("REMOTE_ADDR") or ""
    hops = settings.SIYU_TRUSTED_PROXIES
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            raw = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None
