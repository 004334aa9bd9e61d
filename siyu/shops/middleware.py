"""Finds the shop a request is for: `/s/<slug>/…`, the shop's own host, or the default shop.

A path prefix is stripped before URL resolution and set as the script prefix, so every URL the
app reverses stays inside the same shop.
"""

import re
from typing import cast

from django.http import HttpRequest, HttpResponseNotFound
from django.urls import get_script_prefix, set_script_prefix

from .models import Shop
from .selectors import shop_for_request

_PREFIX = re.compile(r"^/s/(?P<slug>[a-z0-9][a-z0-9-]{0,39})(?P<rest>/.*)?$")


def request_shop(request: HttpRequest) -> Shop:
    """The shop ShopMiddleware resolved for this request (typed access to `request.shop`)."""
    return cast(Shop, getattr(request, "shop"))  # noqa: B009  # set by ShopMiddleware on every request


class ShopMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        match = _PREFIX.match(request.path_info)
        slug = match["slug"] if match else None
        host = request.get_host().split(":")[0].lower() if not slug else ""
        shop = shop_for_request(host=host, slug=slug)
        if shop is None and (slug or not request.path_info.startswith(("/healthz", "/static/", "/media/"))):
            if slug or not request.path_info.startswith("/admin/"):
                return HttpResponseNotFound("shop not found", content_type="text/plain")
        request.shop = shop
        if not match:
            return self.get_response(request)
        old_prefix = get_script_prefix()
        request.path_info = match["rest"] or "/"
        set_script_prefix(f"{request.META.get('SCRIPT_NAME', '').rstrip('/')}/s/{slug}/")
        try:
            return self.get_response(request)
        finally:
            set_script_prefix(old_prefix)
