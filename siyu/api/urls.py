import json
import threading
from collections import OrderedDict

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, get_script_prefix, path, re_path, reverse
from django.utils.translation import get_language

from . import notify
from .errors import json_errors, not_found_view
from .v1 import api


def docs(request):
    """Swagger UI from ninja's bundled static files (no CDN), reading the v1 OpenAPI document."""
    settings = {"layout": "BaseLayout", "deepLinking": True, "url": reverse("api:openapi-json")}
    context = {"swagger_settings": json.dumps(settings, indent=1), "api": api, "add_csrf": True}
    return render(request, "ninja/swagger.html", context)


class _DocumentOnce:
    """The OpenAPI document, built once per process for each place it is served from (the URL
    prefix: /api/v1/ or a shop's /s/<slug>/api/v1/) and language, then answered from memory.

    Building it walks every operation and schema (hundreds of milliseconds); it only changes when
    the code does, i.e. with a new process. A small LRU bounds the memory a crawler of shop prefixes
    could take."""

    MAX_ENTRIES = 32

    def __init__(self, build):
        self.build = build  # ninja's openapi_json view, bound to our api
        self.builds = 0  # how many times the document was built (tests read it)
        self._cache: OrderedDict[tuple, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, request, **kwargs):
        key = (get_script_prefix(), get_language(), tuple(sorted(kwargs.items())))
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            built = self.build(request, **kwargs)
            hit = (built.content, built["Content-Type"])
            with self._lock:
                self.builds += 1
                self._cache[key] = hit
                while len(self._cache) > self.MAX_ENTRIES:
                    self._cache.popitem(last=False)
        return HttpResponse(hit[0], content_type=hit[1])

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def _with_json_errors(urls):
    patterns, app_name, namespace = urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            if pattern.name == "openapi-json":
                pattern.callback = _DocumentOnce(pattern.callback)
            pattern.callback = json_errors(pattern.callback)
    return patterns, app_name, namespace


urlpatterns = [
    path("v1/", _with_json_errors(api.urls)),
    path("docs", docs, name="api-docs"),
    path("payments/notify/<str:provider>/", notify.payment_notification, name="payment-notify"),
    path("payments/notify/<str:provider>/<slug:shop_slug>/", notify.payment_notification, name="payment-notify-shop"),
    # Anything else under /api/ answers with the error body rather than an HTML page.
    re_path(r"^.*$", not_found_view),
]
