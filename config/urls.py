from django.conf import settings
from django.urls import include, path, re_path
from django.views.static import serve

from siyu.core.views import healthz

handler404 = "siyu.storefront.views_errors.page_not_found"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("siyu.api.urls")),
    path("console/", include("siyu.console.urls")),
    path("", include("siyu.storefront.urls")),
]
if settings.SIYU_SERVE_MEDIA:
    urlpatterns.insert(0, re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))
