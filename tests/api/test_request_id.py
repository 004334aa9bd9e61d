"""Every request has an id: echoed in X-Request-ID, in every API error body, and on the log line
(with the traceback) of any server error, so a screenshot of an error can be found in the log."""

import io
import logging

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from .conftest import API

pytestmark = pytest.mark.django_db


def broken_view(request):
    raise ZeroDivisionError("the ledger went wrong")


def fine_view(request):
    return HttpResponse("ok")


urlpatterns = [
    path("broken/", broken_view),
    path("fine/", fine_view),
    path("api/", include("siyu.api.urls")),
]


@pytest.fixture
def log():
    """What the configured console handler of django.request writes."""
    from siyu.core.request_id import RequestIdFilter

    [handler] = [
        h
        for h in logging.getLogger("django.request").handlers
        if isinstance(h, logging.StreamHandler) and any(isinstance(f, RequestIdFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


@pytest.mark.urls(__name__)
def test_a_server_error_is_logged_with_its_traceback_and_request_id(shop, log):
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    request_id = response["X-Request-ID"]
    text = log.getvalue()
    assert "Internal Server Error: /broken/" in text
    assert f"[{request_id}]" in text
    assert "Traceback" in text and "ZeroDivisionError: the ledger went wrong" in text


@pytest.mark.urls(__name__)
def test_every_response_gets_an_id_and_a_sane_incoming_one_is_kept(shop):
    client = Client()
    first, second = client.get("/fine/")["X-Request-ID"], client.get("/fine/")["X-Request-ID"]
    assert first and second and first != second
    kept = client.get("/fine/", headers={"X-Request-ID": "lb-4f1c2a9e-77aa"})
    assert kept["X-Request-ID"] == "lb-4f1c2a9e-77aa"
    for insane in ("x" * 200, "evil\nINFO forged line", "<script>", "short"):
        replaced = client.get("/fine/", headers={"X-Request-ID": insane})["X-Request-ID"]
        assert replaced != insane and len(replaced) == 32


def test_an_api_server_error_body_carries_the_request_id_and_is_logged(client, shop, monkeypatch, caplog):
    from siyu.api import storefront

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(storefront, "categories_tree", broken)
    response = client.get(f"{API}/storefront/categories", headers={"X-Request-ID": "req-0123456789"})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error" and body["request_id"] == "req-0123456789" == response["X-Request-ID"]
    assert "boom" not in body["message"]
    [record] = [r for r in caplog.records if r.name == "siyu.api"]
    assert record.exc_info and record.request_id == "req-0123456789"


def test_client_errors_carry_the_request_id_too(client, shop):
    response = client.get(f"{API}/console/products")
    assert response.status_code == 401
    assert response.json()["request_id"] == response["X-Request-ID"]
