"""The nightly fit: customers' figures stored, win-back flagged, segments on the CLV fields."""

from datetime import date

import numpy as np
import pytest

from siyu.analytics import clv
from siyu.analytics.clv_models import bgnbd_fit, expected_purchases, gamma_gamma_fit, p_alive
from siyu.analytics.clv_summary import clv_summary
from siyu.analytics.models import ClvFit, CustomerValue
from siyu.analytics.tasks import clv_nightly
from siyu.core.errors import InvalidInput
from siyu.customers import segments
from siyu.customers.models import Segment

from .clv_helpers import at, make_customer, own_order, synthetic_pool

pytestmark = pytest.mark.django_db


@pytest.fixture
def fitted(shop):
    end = synthetic_pool(shop, customers=60)
    return clv.clv_fit_shop(shop=shop, calibration_end=end), end


def test_fit_stores_every_buyers_figures_from_the_models(shop, fitted):
    fit, end = fitted
    assert fit.status == ClvFit.Status.OK and fit.customers == 60 and fit.repeaters > 0
    s = clv_summary(shop=shop, calibration_end=end)
    bg = bgnbd_fit(s.frequency, s.recency, s.age)
    gg = gamma_gamma_fit(s.frequency, s.mean_spend)
    assert fit.parameters["r"] == pytest.approx(bg.r) and fit.parameters["gamma"] == pytest.approx(gg.gamma)
    values = {v.customer_id: v for v in CustomerValue.objects.filter(shop=shop)}
    assert set(values) == {int(i) for i in s.customer_ids}
    alive = p_alive(bg, s.frequency, s.recency, s.age)
    year = expected_purchases(bg, 365, s.frequency, s.recency, s.age)
    for i, cid in enumerate(s.customer_ids):
        v = values[int(cid)]
        assert v.frequency == s.frequency[i] and v.age_days == s.age[i]
        assert v.p_alive == pytest.approx(alive[i]) and v.expected_orders_365 == pytest.approx(year[i])
        assert v.expected_orders_90 <= v.expected_orders_365 and v.clv >= 0
    # win-back: CLV in the top third and P(alive) below one half, exactly
    clvs = np.array([v.clv for v in values.values()])
    cut = fit.parameters["win_back_clv_from"]
    assert abs(cut - np.quantile(clvs, 2 / 3)) <= 1
    for v in values.values():
        assert v.win_back == (v.clv >= cut and v.p_alive < 0.5 and v.clv > 0), v.customer_id


def test_refit_updates_rows_and_drops_customers_without_purchases(shop, fitted):
    fit, end = fitted
    gone = CustomerValue.objects.filter(shop=shop).first().customer
    gone.anonymized_at = at(end)
    gone.save(update_fields=["anonymized_at"])
    again = clv.clv_fit_shop(shop=shop, calibration_end=end)
    assert again.status == ClvFit.Status.OK and again.customers == 59
    assert not CustomerValue.objects.filter(customer=gone).exists()
    assert set(CustomerValue.objects.filter(shop=shop).values_list("fitted_at", flat=True)) == {again.fitted_at}


def test_too_few_customers_records_a_failed_fit_and_keeps_nothing_stale(shop):
    c = make_customer(shop)
    own_order(shop, c, at(date(2024, 1, 1)), 1000)
    fit = clv.clv_fit_shop(shop=shop, calibration_end=date(2024, 6, 1))
    assert fit.status == ClvFit.Status.FAILED and fit.error_code == "clv_too_few_customers"
    assert fit.customers == 1 and not CustomerValue.objects.exists()


def test_nightly_task_fits_every_shop(shop, other_shop):
    synthetic_pool(shop, customers=30)
    assert clv_nightly.call_local() == {"fitted": 1, "failed": 1}


def test_segment_on_clv_fields_evaluates_and_exports(shop, owner, fitted):
    flagged = set(CustomerValue.objects.filter(shop=shop, win_back=True).values_list("customer_id", flat=True))
    assert flagged, "the synthetic pool should have someone to win back"
    segment = segments.segment_save(
        actor=owner, shop=shop, name="挽回", rules={"all": [{"field": "win_back", "op": "is", "value": True}]}
    )
    assert set(segment.members.values_list("customer_id", flat=True)) == flagged
    rows = list(segments.segment_export(segment=Segment.objects.get(pk=segment.pk)))
    assert len(rows) == len(flagged) + 1
    assert {r[0] for r in rows[1:]} == set(
        CustomerValue.objects.filter(win_back=True).values_list("customer__public_id", flat=True)
    )

    rules = {"all": [{"field": "p_alive", "op": "<", "value": 50}, {"field": "clv", "op": ">=", "value": "10.00"}]}
    expected = CustomerValue.objects.filter(shop=shop, p_alive__lt=0.5, clv__gte=1000).count()
    assert segments.segment_preview_count(shop=shop, rules=rules) == expected
    many = {"all": [{"field": "expected_orders_365", "op": ">=", "value": 1}]}
    assert (
        segments.segment_preview_count(shop=shop, rules=many)
        == CustomerValue.objects.filter(expected_orders_365__gte=1).count()
    )
    not_flagged = {"all": [{"field": "win_back", "op": "is", "value": False}]}
    everyone = segments.segment_queryset(shop=shop, rules={"all": []}).count()
    assert segments.segment_preview_count(shop=shop, rules=not_flagged) == everyone - len(flagged)


def test_clv_fields_are_offered_and_checked_like_the_built_in_ones():
    vocabulary = segments.rules_vocabulary()
    assert vocabulary["p_alive"]["<"] == {"kind": "whole", "min": 0, "max": 100}
    assert vocabulary["win_back"] == {"is": {"kind": "flag"}}
    for bad, path in [
        ({"field": "p_alive", "op": "<", "value": 101}, "all.0.value"),
        ({"field": "p_alive", "op": "=", "value": 5}, "all.0.op"),
        ({"field": "win_back", "op": "is", "value": "yes"}, "all.0.value"),
        ({"field": ["clv"], "op": ">", "value": 1}, "all.0.field"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            segments.rules_parse({"all": [bad]})
        assert refused.value.detail["path"] == path


def test_winback_candidates_are_sorted_and_scoped(shop, other_shop, fitted):
    rows = list(clv.winback_candidates(shop=shop, limit=500))
    assert rows and all(r.win_back and r.shop_id == shop.pk for r in rows)
    assert [r.clv for r in rows] == sorted((r.clv for r in rows), reverse=True)
    assert list(clv.winback_candidates(shop=other_shop, limit=10)) == []
    assert len(list(clv.winback_candidates(shop=shop, limit=1))) == 1
