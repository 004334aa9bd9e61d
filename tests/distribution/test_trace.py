"""Traceability codes (一物一码): batch generation, scanning, flags and tenancy."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from siyu.accounts.roles import SERVICE
from siyu.catalog.models import Sku
from siyu.core.errors import InvalidInput, NotFound, PermissionDenied, RateLimited
from siyu.core.models import AuditEntry
from siyu.distribution import trace
from siyu.distribution.models import TraceCode, TraceScan

from ..factories import make_product, make_staff

pytestmark = pytest.mark.django_db


def _batch(owner, shop, product, quantity=5, **extra):
    return trace.trace_batch_create(actor=owner, shop=shop, product=product, name="2025 春", quantity=quantity, **extra)


def test_batch_makes_unique_unguessable_codes_with_serials(shop, owner, product):
    batch = _batch(owner, shop, product, quantity=1200)
    codes = list(trace.trace_codes_of_batch(batch=batch))
    assert [c.serial for c in codes] == list(range(1, 1201))
    assert len({c.code for c in codes}) == 1200
    assert all(len(c.code) == trace.CODE_LENGTH and c.code.isalnum() for c in codes)
    assert all(c.scan_count == 0 and c.first_scan_at is None for c in codes)
    assert AuditEntry.objects.filter(action="trace_batch.create", target_id=str(batch.pk)).exists()


def test_batch_accepts_public_id_and_sku(shop, owner, product):
    sku = Sku.objects.get(product=product)
    batch = _batch(owner, shop, product.public_id, quantity=2, sku=sku.pk)
    assert batch.product == product and batch.sku == sku


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 10_001}, "quantity"),
        ({"quantity": "ten"}, "quantity"),
        ({"name": " "}, "name"),
        ({"name": "x" * 41}, "name"),
        ({"product": " "}, "product"),
        ({"sku": "one"}, "sku"),
    ],
)
def test_batch_refuses_bad_input(shop, owner, product, changes, field):
    args = {"product": product, "name": "批次", "quantity": 3, **changes}
    with pytest.raises(InvalidInput) as err:
        trace.trace_batch_create(actor=owner, shop=shop, **args)
    assert field in err.value.detail
    assert not TraceCode.objects.exists()


def test_batch_names_a_missing_product_or_sku_not_found(shop, owner, other_shop, product):
    """Not found, as at every door that names a product: the console, the CLI and the API alike."""
    theirs = make_product(other_shop)
    their_sku = Sku.objects.get(product=theirs)
    for target, sku, detail in (
        (theirs, None, {"product": theirs.public_id}),
        (theirs.public_id, None, {"product": theirs.public_id}),
        ("nosuchproduct", None, {"product": "nosuchproduct"}),
        (product, their_sku, {"sku": their_sku.pk}),
        (product.public_id, str(their_sku.pk), {"sku": their_sku.pk}),
        (product, 999999, {"sku": 999999}),
    ):
        with pytest.raises(NotFound) as err:
            _batch(owner, shop, target, sku=sku)
        assert err.value.detail == detail
    assert not TraceCode.objects.exists()


def test_batch_needs_catalog_manage(shop, owner, product, other_shop):
    with pytest.raises(PermissionDenied):
        _batch(make_staff(shop, role=SERVICE), shop, product)
    with pytest.raises(PermissionDenied):
        _batch(make_staff(other_shop), shop, product)


def test_scan_counts_and_sets_first_scan_once(shop, owner, product):
    code = trace.trace_codes_of_batch(batch=_batch(owner, shop, product)).first()
    first = trace.trace_scan(code=code.code, ip="203.0.113.9")
    assert first.first_scan and first.code.scan_count == 1 and not first.suspicious
    at = first.code.first_scan_at
    assert at is not None
    again = trace.trace_scan(code=code.code.upper(), ip="203.0.113.10")
    assert not again.first_scan and again.code.scan_count == 2
    assert again.code.first_scan_at == at
    scan = TraceScan.objects.filter(code=code).first()
    assert scan.place == "203.0.*.*"
    assert "203.0.113.9" not in scan.ip_hash  # the address itself is never stored


def test_scans_from_several_networks_flag_the_code(shop, owner, product):
    code = trace.trace_codes_of_batch(batch=_batch(owner, shop, product)).first()
    trace.trace_scan(code=code.code, ip="10.0.0.1")
    assert not trace.trace_scan(code=code.code, ip="10.0.0.2").suspicious
    result = trace.trace_scan(code=code.code, ip="192.168.5.5")
    assert result.suspicious
    code.refresh_from_db()
    assert code.suspicious and code.scan_count == 3
    batch = trace.trace_batch_for_staff(shop=shop, batch_id=code.batch_id)
    assert batch.flagged == 1 and batch.scanned == 1 and batch.last_scan is not None


def test_many_scans_from_one_network_flag_the_code(shop, owner, product, settings):
    # scans spread over hours: no repeat window, no per-address budget in the way
    settings.SIYU_TRACE_REPEAT_SECONDS = 0
    settings.SIYU_TRACE_SCANS_PER_MINUTE = settings.SIYU_TRACE_SCANS_PER_HOUR = 1000
    code = trace.trace_codes_of_batch(batch=_batch(owner, shop, product)).first()
    for _ in range(trace.SUSPICIOUS_SCAN_COUNT):
        assert not trace.trace_scan(code=code.code, ip="10.0.0.1").suspicious
    assert trace.trace_scan(code=code.code, ip="10.0.0.1").suspicious


@pytest.mark.parametrize("bad", ["", "short", "x" * 16, "../../etc/passwd", "ABCDEFGH12345678!"])
def test_unknown_or_malformed_code_is_not_found(db, bad):
    with pytest.raises(NotFound) as err:
        trace.trace_scan(code=bad, ip="1.2.3.4")
    assert err.value.code == "trace_unknown"
    assert not TraceScan.objects.exists()


def test_scan_is_scoped_to_the_shop_when_given(shop, owner, other_shop, product):
    code = trace.trace_codes_of_batch(batch=_batch(owner, shop, product)).first()
    with pytest.raises(NotFound):
        trace.trace_scan(code=code.code, ip="1.2.3.4", shop=other_shop)
    assert trace.trace_scan(code=code.code, ip="1.2.3.4", shop=shop).code.scan_count == 1


def test_staff_reads_are_scoped_to_their_shop(shop, owner, other_shop, product):
    batch = _batch(owner, shop, product)
    assert list(trace.trace_batches_for_staff(shop=other_shop)) == []
    with pytest.raises(NotFound):
        trace.trace_batch_for_staff(shop=other_shop, batch_id=batch.pk)
    code = trace.trace_codes_of_batch(batch=batch).first()
    with pytest.raises(NotFound):
        trace.trace_scans_of_code(shop=other_shop, code=code.code)


@pytest.mark.parametrize(
    ("ip", "place"),
    [("203.0.113.9", "203.0.*.*"), ("2001:db8:1234::1", "2001:db8::/32"), ("nonsense", ""), (None, "")],
)
def test_coarse_place(ip, place):
    assert trace.coarse_place(ip) == place


def test_qr_png_is_an_image():
    png = trace.trace_qr_png(url="https://example.com/t/abc/")
    assert png.startswith(b"\x89PNG")
    assert trace.trace_qr_data_uri(url="x").startswith("data:image/png;base64,")


# --- limits per address and repeats ------------------------------------------------------------


@pytest.fixture
def still_clock(monkeypatch):
    """The budgets count in fixed windows; hold the clock inside one so no test straddles two."""
    now = [1_800_000_000.0]  # on a whole hour: the minute and the hour windows start together
    monkeypatch.setattr(trace, "_clock", lambda: now[0])
    return now


def _allowed(ip: str, times: int) -> int:
    done = 0
    for _ in range(times):
        try:
            trace.trace_scan_throttle(ip=ip)
        except RateLimited as exc:
            assert exc.status == 429 and exc.code == "trace_rate_limited"
            continue
        done += 1
    return done


def test_budget_per_minute_and_per_hour(db, settings, still_clock):
    assert _allowed("203.0.113.5", 40) == 30  # the defaults: 30 a minute
    still_clock[0] += 60
    assert _allowed("203.0.113.5", 1) == 1
    assert _allowed("203.0.113.6", 1) == 1  # another address has its own budget
    settings.SIYU_TRACE_SCANS_PER_MINUTE, settings.SIYU_TRACE_SCANS_PER_HOUR = 100, 5
    assert _allowed("198.51.100.1", 3) == 3
    still_clock[0] += 60
    assert _allowed("198.51.100.1", 5) == 2  # the hour's budget spans the minutes
    still_clock[0] += 3600
    assert _allowed("198.51.100.1", 1) == 1


def test_one_ipv6_network_shares_a_budget_and_no_address_is_not_limited(db, settings, still_clock):
    settings.SIYU_TRACE_SCANS_PER_MINUTE = 2
    assert _allowed("2001:db8:1:2::1", 1) + _allowed("2001:db8:1:2:ffff::9", 2) == 2
    assert _allowed("2001:db8:1:3::1", 1) == 1
    for ip in (None, "", "not-an-address"):
        assert _allowed(ip, 5) == 5


def test_budget_counts_are_atomic_across_threads(db, settings, still_clock):
    settings.SIYU_TRACE_SCANS_PER_MINUTE = 30
    barrier = threading.Barrier(16)

    def burst(_n):
        barrier.wait(timeout=30)
        return _allowed("192.0.2.77", 4)

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert sum(pool.map(burst, range(16))) == 30  # 64 tries, exactly the budget gets through


def test_refused_scans_record_nothing(shop, owner, product, settings, still_clock):
    settings.SIYU_TRACE_SCANS_PER_MINUTE = 1
    codes = list(trace.trace_codes_of_batch(batch=_batch(owner, shop, product)))
    trace.trace_scan(code=codes[0].code, ip="203.0.113.9")
    with pytest.raises(RateLimited):
        trace.trace_scan(code=codes[1].code, ip="203.0.113.9")
    with pytest.raises(RateLimited):  # junk codes spend the budget too: walking codes is what it stops
        trace.trace_scan(code="zzzzzzzzzzzzzzzz", ip="203.0.113.9")
    assert TraceScan.objects.count() == 1


def test_a_repeat_from_the_same_address_counts_once(shop, owner, product, settings):
    code = trace.trace_codes_of_batch(batch=_batch(owner, shop, product)).first()
    first = trace.trace_scan(code=code.code, ip="203.0.113.9")
    again = trace.trace_scan(code=code.code, ip="203.0.113.9")
    assert first.first_scan and not again.first_scan and again.code.scan_count == 1
    assert TraceScan.objects.filter(code=code).count() == 1
    assert trace.trace_scan(code=code.code, ip="203.0.113.10").code.scan_count == 2
    settings.SIYU_TRACE_REPEAT_SECONDS = 0  # no repeat window: every scan counts
    assert trace.trace_scan(code=code.code, ip="203.0.113.9").code.scan_count == 3
