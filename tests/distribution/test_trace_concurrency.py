"""Concurrent scans of one traceability code count exactly, on PostgreSQL with real threads."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from siyu.distribution import trace
from siyu.distribution.models import TraceCode, TraceScan

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]

SCANS = 40


def _parallel(func, args_list):
    barrier = threading.Barrier(len(args_list))

    def call(args):
        try:
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            return func(*args)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(args_list)) as pool:
        return list(pool.map(call, args_list))


def test_concurrent_scans_count_exactly_and_have_one_first(shop, owner, product):
    batch = trace.trace_batch_create(actor=owner, shop=shop, product=product, name="并发", quantity=1)
    code = TraceCode.objects.get(batch=batch)

    results = _parallel(lambda ip: trace.trace_scan(code=code.code, ip=ip), [(f"10.{i}.0.1",) for i in range(SCANS)])

    code.refresh_from_db()
    assert code.scan_count == SCANS
    assert TraceScan.objects.filter(code=code).count() == SCANS
    assert sum(1 for r in results if r.first_scan) == 1
    assert code.first_scan_at is not None and code.suspicious


def test_concurrent_repeats_from_one_address_count_once(shop, owner, product):
    """A chat app opening the link several times at once: one scan, and it is the first."""
    batch = trace.trace_batch_create(actor=owner, shop=shop, product=product, name="重复", quantity=1)
    code = TraceCode.objects.get(batch=batch)

    results = _parallel(lambda ip: trace.trace_scan(code=code.code, ip=ip), [("203.0.113.9",)] * 12)

    code.refresh_from_db()
    assert code.scan_count == 1 and TraceScan.objects.filter(code=code).count() == 1
    assert sum(1 for r in results if r.first_scan) == 1
