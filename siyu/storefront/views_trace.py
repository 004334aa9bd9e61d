"""The public page a traceability QR code opens: is this item genuine, and how often was it scanned.

Scans are limited per caller address (the real one behind trusted proxies, `client_ip`); over the
limit the shopper gets a calm page with 429 and a Retry-After, never an error screen.
"""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from siyu.core.errors import NotFound, RateLimited
from siyu.core.security import client_ip
from siyu.distribution.trace import trace_code_lookup, trace_scan, trace_scan_throttle

RETRY_AFTER_SECONDS = 60


@never_cache
@require_safe
def trace_page(request, code: str):
    """Each GET records one scan (a repeat from the same address soon after is not counted
    again); a HEAD (link previews, crawlers checking a URL) only looks. Both spend the budget."""
    ip = client_ip(request)
    try:
        if request.method == "GET":
            result = trace_scan(code=code, ip=ip, shop=request.shop)
            item, first = result.code, result.first_scan
        else:
            trace_scan_throttle(ip=ip)
            item, first = trace_code_lookup(code=code, shop=request.shop), False
    except RateLimited:
        response = render(request, "storefront/trace_busy.html", {"code": code[:40]}, status=429)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    except NotFound:
        return render(request, "storefront/trace_unknown.html", {"code": code[:40]}, status=404)
    context = {"item": item, "batch": item.batch, "product": item.batch.product, "first": first}
    return render(request, "storefront/trace.html", context)
