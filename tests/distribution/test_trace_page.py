"""The public scan page /t/<code>/: genuine, suspicious, not genuine; counts; another shop's code."""

import pytest

from siyu.distribution import trace
from siyu.distribution.models import TraceScan

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def code(shop, owner, product):
    batch = trace.trace_batch_create(actor=owner, shop=shop, product=product, name="首批", quantity=3)
    return trace.trace_codes_of_batch(batch=batch).get(serial=2)


def test_first_scan_shows_genuine_product_and_batch(en, code, product, django_assert_num_queries):
    # shop, code, savepoint, scan row, count, first-scan time, re-read, distinct networks, release
    with django_assert_num_queries(9):
        response = en.get(f"/t/{code.code}/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Genuine product" in text and product.name in text and "首批" in text
    assert "you are the first to scan this code" in text
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    code.refresh_from_db()
    assert code.scan_count == 1 and code.first_scan_at is not None


def test_second_scan_shows_first_time_and_count(en, code):
    en.get(f"/t/{code.code}/")
    response = en.get(f"/t/{code.code}/")
    assert response.context["item"].scan_count == 2
    assert not response.context["first"]
    assert "you are the first" not in response.content.decode()


def test_scans_from_many_places_show_a_warning(en, code):
    for ip in ("10.0.0.1", "172.16.0.1", "192.168.0.1"):
        response = en.get(f"/t/{code.code}/", REMOTE_ADDR=ip)
    assert response.status_code == 200
    assert "scanned suspiciously often" in response.content.decode()
    assert "Genuine product" not in response.content.decode()


def test_unknown_code_is_not_genuine_with_404(en, code):
    response = en.get("/t/zzzzzzzzzzzzzzzz/")
    assert response.status_code == 404
    assert "Not a genuine code" in response.content.decode()
    assert en.get("/t/<script>/").status_code == 404
    assert not TraceScan.objects.exists()


def test_another_shops_code_is_not_genuine_there(en, code, other_shop):
    assert en.get(f"/s/other/t/{code.code}/").status_code == 404
    assert not TraceScan.objects.exists()


def test_head_does_not_count_and_post_is_refused(en, code):
    assert en.head(f"/t/{code.code}/").status_code == 200
    assert en.post(f"/t/{code.code}/").status_code == 405
    code.refresh_from_db()
    assert code.scan_count == 0


def test_page_speaks_chinese_by_default(client, code):
    response = client.get(f"/t/{code.code}/")
    assert response.status_code == 200
    assert "正品" in response.content.decode()
