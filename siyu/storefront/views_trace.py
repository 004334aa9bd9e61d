"""The public page a traceability QR code opens: is this item genuine, and how often was it scanned."""

from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from siyu.core.errors import NotFound
from siyu.distribution.trace import trace_code_lookup, trace_scan


@never_cache
@require_safe
def trace_page(request, code: str):
    """Each GET records one scan; a HEAD (link previews, crawlers checking a URL) only looks."""
    try:
        if request.method == "GET":
            result = trace_scan(code=code, ip=request.META.get("REMOTE_ADDR"), shop=request.shop)
            item, first = result.code, result.first_scan
        else:
            item, first = trace_code_lookup(code=code, shop=request.shop), False
    except NotFound:
        return render(request, "storefront/trace_unknown.html", {"code": code[:40]}, status=404)
    context = {"item": item, "batch": item.batch, "product": item.batch.product, "first": first}
    return render(request, "storefront/trace.html", context)
