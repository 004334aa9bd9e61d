"""Saving segments in parallel on PostgreSQL: the unique name decides, never a 500."""

import pytest

from siyu.customers.models import Segment
from siyu.customers.segments import segment_save
from tests.concurrency import run_parallel

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_only")]
WORKERS = 8


def test_parallel_saves_of_one_new_name_make_one_segment(shop, owner):
    rules = [{"all": [{"field": "order_count", "op": ">=", "value": n}]} for n in range(WORKERS)]
    results = run_parallel(
        lambda r: segment_save(actor=owner, shop=shop, name="复购客户", rules=r), [(r,) for r in rules]
    )
    assert all(isinstance(r, Segment) for r in results)
    assert len({r.pk for r in results}) == 1
    saved = Segment.objects.get(shop=shop)
    assert saved.name == "复购客户" and saved.rules in rules  # the last writer's rules, whole


def test_parallel_renames_to_one_name_give_one_winner_and_409s(shop, owner):
    segments = [segment_save(actor=owner, shop=shop, name=f"分组{i}", rules={"all": []}) for i in range(WORKERS)]
    results = run_parallel(
        lambda s: segment_save(actor=owner, shop=shop, name="高价值", rules={"any": []}, segment=s),
        [(s,) for s in segments],
    )
    won = [r for r in results if isinstance(r, Segment)]
    refused = [r for r in results if not isinstance(r, Segment)]
    assert len(won) == 1 and len(refused) == WORKERS - 1
    assert {(e.code, e.status) for e in refused} == {("segment_name_taken", 409)}
    assert Segment.objects.filter(shop=shop, name="高价值").count() == 1
    assert Segment.objects.filter(shop=shop).count() == WORKERS
