import json

from django.shortcuts import render
from django.urls import URLPattern, path, re_path, reverse

from . import notify
from .errors import json_errors, not_found_view
from .v1 import api


def docs(request):
    """Swagger UI from ninja's bundled static files (no CDN), reading the v1 OpenAPI document."""
    settings = {"layout": "BaseLayout", "deepLinking": True, "url": reverse("api:openapi-json")}
    context = {"swagger_settings": json.dumps(settings, indent=1), "api": api, "add_csrf": True}
    return render(request, "ninja/swagger.html", context)


def _with_json_errors(urls):
    patterns, app_name, namespace = urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
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
