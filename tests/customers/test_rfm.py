"""RFM quintiles and lifecycle stages, and the nightly job that recomputes them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.customers import rfm
from siyu.customers.models import CrmSettings, Customer, CustomerTag, Segment, SegmentMember, Tag
from siyu.customers.rfm import rfm_distribution, rfm_recompute
from siyu.customers.tasks import customers_nightly

from .test_segments import make_customer


@pytest.mark.parametrize("update_from", [True, False], ids=["update-from", "chunked-fallback"])
def test_quintiles_on_ten_distinct_customers(shop, monkeypatch, update_from):
    monkeypatch.setattr(rfm, "_update_from_supported", lambda: update_from)
    now = timezone.now()
    # customer i: the i-th oldest last order, the i-th fewest orders, the i-th least spent
    people = [
        make_customer(
            shop,
            order_count=i + 1,
            total_spent=(i + 1) * 1000,
            first_order_at=now - timedelta(days=400),
            last_order_at=now - timedelta(days=100 - i),
        )
        for i in range(10)
    ]
    prospect = make_customer(shop, rfm_r=3, rfm_f=3, rfm_m=3)
    result = rfm_recompute(shop=shop)
    assert result["scored"] == 10
    got = {c.pk: (c.rfm_r, c.rfm_f, c.rfm_m) for c in Customer.objects.filter(shop=shop)}
    want = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [got[c.pk] for c in people] == [(s, s, s) for s in want]
    assert got[prospect.pk] == (0, 0, 0)


def test_reversed_measures_score_independently(shop):
    now = timezone.now()
    # recent customers are the ones who buy least: R and F must run in opposite directions
    people = [
        make_customer(
            shop,
            order_count=20 - i,
            total_spent=5000,
            first_order_at=now - timedelta(days=400),
            last_order_at=now - timedelta(days=50 - i),
        )
        for i in range(5)
    ]
    rfm_recompute(shop=shop)
    rows = Customer.objects.filter(pk__in=[c.pk for c in people]).order_by("-last_order_at")
    assert [(c.rfm_r, c.rfm_f, c.rfm_m) for c in rows] == [(5, 1, 1), (4, 2, 1), (3, 3, 1), (2, 4, 1), (1, 5, 1)]


def test_equal_figures_get_equal_scores(shop):
    now = timezone.now()
    last = now - timedelta(days=5)
    # 6 one-order customers and 4 with more: all one-order customers share F = 1
    ones = [
        make_customer(shop, order_count=1, total_spent=100, last_order_at=last, first_order_at=last) for _ in range(6)
    ]
    more = [
        make_customer(shop, order_count=2 + i, total_spent=200 + i, last_order_at=last, first_order_at=last)
        for i in range(4)
    ]
    rfm_recompute(shop=shop)
    f = dict(Customer.objects.filter(shop=shop).values_list("pk", "rfm_f"))
    assert {f[c.pk] for c in ones} == {1}
    assert [f[c.pk] for c in more] == [4, 4, 5, 5]
    r = set(Customer.objects.filter(shop=shop).values_list("rfm_r", flat=True))
    assert r == {1}  # all bought at the same moment


def test_lifecycle_from_shop_thresholds(shop):
    CrmSettings.objects.create(shop=shop, new_days=10, active_days=30, at_risk_days=60, dormant_days=120)
    now = timezone.now()

    def bought(first_days, last_days):
        return make_customer(
            shop,
            order_count=2,
            total_spent=100,
            first_order_at=now - timedelta(days=first_days),
            last_order_at=now - timedelta(days=last_days),
        )

    cases = {
        "new": bought(5, 1),
        "active": bought(200, 29),
        "at_risk": bought(200, 31),
        "dormant": bought(200, 119),
        "lost": bought(400, 121),
        "prospect": make_customer(shop, lifecycle="active"),
    }
    rfm_recompute(shop=shop, now=now)
    stages = dict(Customer.objects.filter(shop=shop).values_list("pk", "lifecycle"))
    assert {stage: stages[c.pk] for stage, c in cases.items()} == {stage: stage for stage in cases}


def test_default_thresholds_apply_before_any_are_saved(shop):
    now = timezone.now()
    customer = make_customer(
        shop,
        order_count=1,
        total_spent=1,
        first_order_at=now - timedelta(days=100),
        last_order_at=now - timedelta(days=100),
    )
    rfm_recompute(shop=shop)
    assert not CrmSettings.objects.filter(shop=shop).exists()  # reading the rules writes nothing
    customer.refresh_from_db()
    assert customer.lifecycle == "at_risk"  # defaults: active within 90 days, at risk within 180


def test_other_shops_are_left_alone(shop, other_shop):
    now = timezone.now()
    theirs = make_customer(
        other_shop, order_count=3, total_spent=1, last_order_at=now, first_order_at=now, lifecycle="lost"
    )
    make_customer(shop, order_count=3, total_spent=1, last_order_at=now, first_order_at=now)
    rfm_recompute(shop=shop)
    theirs.refresh_from_db()
    assert (theirs.rfm_r, theirs.lifecycle) == (0, "lost")


def test_distribution_in_one_query(shop, other_shop, django_assert_num_queries):
    now = timezone.now()
    for i in range(10):
        make_customer(
            shop,
            order_count=i + 1,
            total_spent=i,
            last_order_at=now - timedelta(days=i * 40),
            first_order_at=now - timedelta(days=400),
        )
    make_customer(shop)
    make_customer(other_shop, order_count=1, last_order_at=now, first_order_at=now)
    rfm_recompute(shop=shop)
    with django_assert_num_queries(1):
        dist = rfm_distribution(shop=shop)
    assert dist["total"] == 11
    assert sum(dist["lifecycle"].values()) == 11
    assert dist["lifecycle"]["prospect"] == 1
    # last orders 0, 40 … 360 days ago: 0–80 active, 120–160 at risk, 200–360 dormant
    assert dist["lifecycle"]["active"] == 3 and dist["lifecycle"]["at_risk"] == 2
    assert dist["lifecycle"]["dormant"] == 5
    for letter in "rfm":
        assert dist[letter] == {0: 1, 1: 2, 2: 2, 3: 2, 4: 2, 5: 2}


def test_nightly_job_scores_then_tags_then_segments(shop):
    now = timezone.now()
    big = make_customer(
        shop, order_count=9, total_spent=9000, last_order_at=now, first_order_at=now - timedelta(days=300)
    )
    for i in range(4):
        make_customer(
            shop,
            order_count=1,
            total_spent=i,
            last_order_at=now - timedelta(days=10 + i),
            first_order_at=now - timedelta(days=300),
        )
    top = Tag.objects.create(shop=shop, name="高价值", rules={"all": [{"field": "rfm_m", "op": "=", "value": 5}]})
    seg = Segment.objects.create(
        shop=shop, name="高价值", rules={"all": [{"field": "tags", "op": "has_any", "value": [top.pk]}]}
    )
    broken = Segment.objects.create(shop=shop, name="坏的", rules={"all": [{"field": "gone", "op": "=", "value": 1}]})
    assert customers_nightly.call_local() == 1
    assert list(CustomerTag.objects.filter(tag=top).values_list("customer_id", flat=True)) == [big.pk]
    assert list(SegmentMember.objects.filter(segment=seg).values_list("customer_id", flat=True)) == [big.pk]
    broken.refresh_from_db()
    assert broken.evaluated_at is None
