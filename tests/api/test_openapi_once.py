"""The OpenAPI document is built once per process, not on every request (issue 15, item 5)."""

import pytest
from django.urls import resolve

from siyu.api.v1 import api

from .conftest import API, OTHER_API


@pytest.fixture
def builds(monkeypatch):
    """Counts the calls to the document builder; starts from an empty per-process copy."""
    once = resolve(f"{API}/openapi.json").func.__wrapped__
    once.forget()
    calls = []
    build = api.get_openapi_schema

    def counted(*args, **kwargs):
        calls.append(kwargs)
        return build(*args, **kwargs)

    monkeypatch.setattr(api, "get_openapi_schema", counted)
    yield calls
    once.forget()


def test_the_second_request_does_not_build_the_document_again(client, shop, builds):
    first = client.get(f"{API}/openapi.json")
    second = client.get(f"{API}/openapi.json")
    assert first.status_code == second.status_code == 200
    assert len(builds) == 1
    assert first.content == second.content
    assert second["Content-Type"].startswith("application/json")
    assert second.json()["info"]["title"] == "Siyu API"
    assert first["X-Request-ID"] != second["X-Request-ID"]  # each answer is still its own response


def test_a_shop_prefix_gets_its_own_document_with_its_own_paths(client, shop, other_shop, builds):
    main = client.get(f"{API}/openapi.json").json()
    other = client.get(f"{OTHER_API}/openapi.json").json()
    client.get(f"{OTHER_API}/openapi.json")
    assert len(builds) == 2
    assert f"{API}/storefront/products" in main["paths"]
    assert f"{OTHER_API}/storefront/products" in other["paths"]
