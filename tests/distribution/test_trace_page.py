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
    en.get(f"/t/{code.code}/", REMOTE_ADDR="10.0.0.1")
    response = en.get(f"/t/{code.code}/", REMOTE_ADDR="10.0.0.2")
    assert response.context["item"].scan_count == 2
    assert not response.context["first"]
    assert "you are the first" not in response.content.decode()


def test_the_same_shopper_scanning_again_soon_counts_once(en, code):
    en.get(f"/t/{code.code}/")
    again = en.get(f"/t/{code.code}/")
    assert again.status_code == 200 and "Genuine product" in again.content.decode()
    assert again.context["item"].scan_count == 1 and not again.context["first"]
    assert "you are the first" not in again.content.decode()
    assert TraceScan.objects.count() == 1


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


@pytest.fixture
def still_clock(monkeypatch):
    """The scan budgets count in fixed windows; hold the clock inside one so no test straddles two."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(trace, "_clock", lambda: now[0])
    return now


def test_too_many_scans_from_one_address_get_a_friendly_429(en, code, settings, still_clock):
    settings.SIYU_TRACE_SCANS_PER_MINUTE = 3
    others = list(trace.trace_codes_of_batch(batch=code.batch).exclude(pk=code.pk))
    for item in [code, *others]:
        assert en.get(f"/t/{item.code}/").status_code == 200
    response = en.get(f"/t/{code.code}/")
    assert response.status_code == 429 and response["Retry-After"] == "60"
    text = response.content.decode()
    assert "Please wait a moment" in text and "This says nothing about your item" in text
    assert "<script>" not in text
    assert TraceScan.objects.count() == 3  # the refused scan is not recorded
    assert en.head(f"/t/{code.code}/").status_code == 429
    # someone else scanning at the same moment is not held back
    assert en.get(f"/t/{code.code}/", REMOTE_ADDR="198.51.100.20").status_code == 200
    still_clock[0] += 60  # the next minute starts a new budget
    assert en.get(f"/t/{code.code}/").status_code == 200


def test_the_limit_is_per_caller_behind_trusted_proxies(en, code, settings, still_clock):
    settings.SIYU_TRACE_SCANS_PER_MINUTE = 1
    settings.SIYU_TRACE_SCANS_PER_HOUR = 100
    settings.SIYU_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.254"}
    url = f"/t/{code.code}/"
    assert en.get(url, HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code == 200
    assert en.get(url, HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code == 200
    # a forged left-hand entry does not buy a fresh budget: the proxy's entry decides
    assert en.get(url, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.1", **proxy).status_code == 429
    assert code.scans.count() == 2


def test_page_over_the_limit_speaks_chinese_by_default(client, code, settings, still_clock):
    settings.SIYU_TRACE_SCANS_PER_MINUTE = 0
    response = client.get(f"/t/{code.code}/")
    assert response.status_code == 429
    assert 'lang="zh-hans"' in response.content.decode()
