"""How the API reads request bodies: JSON only from a JSON body, form fields and files only from a
multipart body.

ninja would read `json.loads(request.body)` whatever the Content-Type, so a page on another site
could post a text/plain "form" that our JSON operations accept (requesting sign-in codes, signing a
visitor into someone else's account). Browsers cannot send application/json cross-site without a
preflight, which we never grant; so refusing every other type closes that door.
"""

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.parser import Parser

from .errors import UnsupportedMediaType, has_body

JSON = "application/json"
MULTIPART = "multipart/form-data"


def _refuse(request: HttpRequest, expected: str) -> None:
    raise UnsupportedMediaType(detail={"content_type": (request.content_type or "")[:100], "expected": expected})


class StrictParser(Parser):
    def parse_body(self, request: HttpRequest):
        # ninja also parses each field of a multipart body through a stand-in request with no
        # headers; those fields were already admitted as multipart.
        if request.META and request.content_type != JSON:
            _refuse(request, JSON)
        return super().parse_body(request)

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest):
        reads_body = data is request.POST or data is request.FILES
        if reads_body and has_body(request) and request.content_type != MULTIPART:
            _refuse(request, MULTIPART)
        return super().parse_querydict(data, list_fields, request)
