"""The 404 page (config/urls.py's handler404), in the shop's style rather than Django's plain one.

With DEBUG off (`make run`, production) Django calls this for every unknown URL and for Http404.
API callers read JSON, so under /api/ the answer is the API's error body instead of a page.
"""

from django.http import HttpResponseNotFound, JsonResponse
from django.template.loader import render_to_string

from siyu.core.errors import NotFound
from siyu.core.request_id import current_request_id


def page_not_found(request, exception=None):
    if request.path_info.startswith("/api/"):
        body = NotFound().as_body() | {"request_id": current_request_id()}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    # No shop (an unknown host or /s/<slug>/) is answered by the shop middleware before this;
    # the template still copes without one.
    return HttpResponseNotFound(render_to_string("storefront/404.html", {}, request=request))
