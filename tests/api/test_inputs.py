"""What every operation refuses before any service runs: control characters in any text (path,
query, JSON or form field), blank query values, booleans for numbers, and bodies that are not JSON
(or multipart where files are taken). One convention: 400 with the error body; 415 for the type."""

import json
import re

import pytest
from django.test import Client

from .conftest import API, bearer

pytestmark = pytest.mark.django_db

NUL_TEXT = "a\x00b"


@pytest.fixture
def document(client, shop):
    return client.get(f"{API}/openapi.json").json()


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(doc, schema["allOf"][0])
    return schema


def _is_text(doc: dict, schema: dict) -> bool:
    schema = _resolve(doc, schema)
    options = schema.get("anyOf", [schema])
    return any(_resolve(doc, s).get("type") == "string" and "format" not in _resolve(doc, s) for s in options)


def _operations(doc: dict):
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            yield path, method, op


def _url(path: str, op: dict, override: dict | None = None) -> str:
    for param in op.get("parameters", []):
        if param["in"] == "path":
            value = (override or {}).get(param["name"], "1" if param["schema"].get("type") == "integer" else "x")
            path = path.replace("{" + param["name"] + "}", value)
    return path


def _cases(doc: dict):
    """(method, url, kwargs, where) for every text field of every operation, each carrying a NUL."""
    for path, method, op in _operations(doc):
        params = op.get("parameters", [])
        for param in params:
            if param["in"] == "path" and _is_text(doc, param["schema"]):
                yield method, _url(path, op, {param["name"]: "a%00b"}), {}, ("path", param["name"])
            if param["in"] == "query" and _is_text(doc, param["schema"]):
                yield method, _url(path, op) + f"?{param['name']}=a%00b", {}, ("query", param["name"])
        content = op.get("requestBody", {}).get("content", {})
        for media, spec in content.items():
            body = _resolve(doc, spec["schema"])
            for name, prop in body.get("properties", {}).items():
                if not _is_text(doc, prop):
                    continue
                if media == "application/json":
                    kwargs = {"data": json.dumps({name: NUL_TEXT}), "content_type": media}
                else:
                    kwargs = {"data": {name: NUL_TEXT}}
                yield method, _url(path, op), kwargs, ("body", name)


def test_every_text_field_of_every_operation_refuses_control_characters(document, shop, owner_key, shopper_key):
    staff, shopper = Client(headers=bearer(owner_key)), Client(headers=bearer(shopper_key))
    seen, controls = set(), 0
    for method, url, kwargs, (where, name) in _cases(document):
        caller = staff if "/console/" in url else shopper
        response = getattr(caller, method)(url, **kwargs)
        seen.add((where, url.split("?")[0], name))
        assert response.status_code == 400, (method, url, name, response.content)
        body = response.json()
        assert body["code"] == "invalid_input", (method, url, body)
        if where == "body":
            # Free text says why; a choice (an enum) refuses the NUL as not one of its values.
            refusals = [e for e in body["detail"]["errors"] if e["loc"][-1] == name]
            assert refusals, (method, url, name, body)
            controls += any("control characters" in e["msg"] for e in refusals)
        else:
            assert "control characters" in json.dumps(body["detail"]), (method, url, body)
    # The walk found fields in the path, the query, JSON bodies and forms alike.
    assert {where for where, *_ in seen} == {"path", "query", "body"}
    assert len(seen) > 100 and controls > 30


@pytest.mark.parametrize("text", ["\x00", "\x07bell", "esc\x1b[31m", "del\x7f", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused_in_order_bodies(client, shop, shopper_key, text):
    # OrderIn, QuoteIn and ItemIn ignore unknown fields, which once skipped the check altogether.
    body = json.dumps({"items": [{"sku": 1, "quantity": 1}], "address_id": "x" + text, "note": text})
    response = client.post(
        f"{API}/storefront/orders",
        body,
        content_type="application/json",
        headers={**bearer(shopper_key), "Idempotency-Key": "k1"},
    )
    assert response.status_code == 400, response.content
    assert {e["loc"][-1] for e in response.json()["detail"]["errors"]} >= {"address_id", "note"}


def test_newlines_and_tabs_are_still_text(api, shop):
    response = api.post(f"{API}/console/categories", {"name": "两行\n\t名字"}, content_type="application/json")
    assert response.status_code == 201, response.content


# --- one convention for input errors --------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, [True]])
def test_booleans_are_not_numbers(client, shop, shopper_key, value):
    body = {"quantity": value} if not isinstance(value, list) else {"quantity": 1, "add": value}
    response = client.put(
        f"{API}/storefront/cart/lines/1", json.dumps(body), content_type="application/json", headers=bearer(shopper_key)
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_input"


def test_booleans_are_not_numbers_inside_lists(api, shop):
    response = api.put(f"{API}/console/featured", {"product_ids": [True]}, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query", ["limit=", "offset=", "q=", "category=", "limit=0", "limit=101", "offset=-1", "limit=true", "limit=1e3"]
)
def test_blank_and_out_of_range_query_values_are_refused(client, shop, query):
    response = client.get(f"{API}/storefront/products?{query}")
    assert response.status_code == 400, (query, response.content)
    assert response.json()["code"] == "invalid_input"


def test_out_of_range_ids_in_paths_are_refused(api, shop):
    for url in (f"{API}/console/categories/{2**63}", f"{API}/console/categories/0"):
        response = api.patch(url, {"name": "x"}, content_type="application/json")
        assert response.status_code in (400, 404), response.content


# --- bodies that are not JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8", "application/jsonx", ""],
)
def test_a_cross_site_form_cannot_request_a_code_or_sign_in(client, shop, content_type):
    from siyu.accounts.models import OtpChallenge

    body = json.dumps({"phone": "13800138000"})
    response = client.generic("POST", f"{API}/storefront/auth/otp", body, content_type=content_type)
    assert response.status_code == 415, response.content
    assert response.json()["code"] == "unsupported_media_type"
    assert not OtpChallenge.objects.exists()
    login = json.dumps({"phone": "13800138000", "code": "123456"})
    response = client.generic("POST", f"{API}/storefront/auth/login", login, content_type=content_type)
    assert response.status_code == 415


def test_json_with_a_charset_is_json(client, shop):
    body = json.dumps({"phone": "13800138000"})
    response = client.post(f"{API}/storefront/auth/otp", body, content_type="application/json; charset=utf-8")
    assert response.status_code == 202, response.content


def test_multipart_is_refused_where_an_operation_reads_json(api, shop):
    response = api.post(f"{API}/console/categories", {"name": "水果"})  # the test client's default: multipart
    assert response.status_code == 415 and response.json()["detail"]["expected"] == "application/json"


def test_json_is_refused_where_an_operation_takes_files(api, shop, product):
    url = f"{API}/console/products/{product.public_id}/main-image"
    response = api.post(url, json.dumps({"image": "x"}), content_type="application/json")
    assert response.status_code == 415 and response.json()["detail"]["expected"] == "multipart/form-data"


def test_the_document_says_so(document):
    assert "415" in document["info"]["description"] and "400" in document["info"]["description"]
    statuses = {code for *_, op in _operations(document) for code in op["responses"]}
    assert "422" not in statuses and "415" in statuses
    assert re.search(r"\bX-Request-ID\b", document["info"]["description"])
