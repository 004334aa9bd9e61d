"""Traceability codes (一物一码): batch generation, scanning, flags and tenancy."""

import pytest

from siyu.accounts.roles import SERVICE
from siyu.catalog.models import Sku
from siyu.core.errors import InvalidInput, NotFound, PermissionDenied
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
        ({"product": "nosuchproduct"}, "product"),
        ({"sku": 999999}, "sku"),
    ],
)
def test_batch_refuses_bad_input(shop, owner, product, changes, field):
    args = {"product": product, "name": "批次", "quantity": 3, **changes}
    with pytest.raises(InvalidInput) as err:
        trace.trace_batch_create(actor=owner, shop=shop, **args)
    assert field in err.value.detail
    assert not TraceCode.objects.exists()


def test_batch_refuses_another_shops_product_and_sku(shop, owner, other_shop, product):
    theirs = make_product(other_shop)
    with pytest.raises(InvalidInput) as err:
        _batch(owner, shop, theirs)
    assert err.value.detail == {"product": "not found"}
    with pytest.raises(InvalidInput):
        _batch(owner, shop, product, sku=Sku.objects.get(product=theirs))


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
    again = trace.trace_scan(code=code.code.upper(), ip="203.0.113.9")
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


def test_many_scans_from_one_network_flag_the_code(shop, owner, product):
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
