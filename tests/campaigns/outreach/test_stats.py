"""Uplift intervals against hand computations."""

import math

import pytest

from siyu.campaigns.outreach.stats import conversion_uplift, mean_var, roi, welch_uplift


def test_conversion_interval_by_hand():
    # p1 = 30/200 = 0.15, p0 = 10/100 = 0.10; se = √(0.15·0.85/200 + 0.10·0.90/100) = √0.0015375
    got = conversion_uplift(x1=30, n1=200, x0=10, n0=100)
    se = math.sqrt(0.0015375)
    assert got.diff == pytest.approx(0.05)
    assert se == pytest.approx(0.039211, abs=1e-6)
    assert got.low == pytest.approx(0.05 - 1.959964 * se, abs=1e-6)
    assert got.high == pytest.approx(0.126852, abs=1e-6)
    assert not got.significant  # the interval holds zero


def test_welch_interval_by_hand():
    a = [0, 0, 0, 5000, 12000, 0, 3000, 0]
    b = [0, 0, 2000, 0, 0, 0]
    m1, v1 = mean_var(total=sum(a), squares=sum(x * x for x in a), n=len(a))
    m0, v0 = mean_var(total=sum(b), squares=sum(x * x for x in b), n=len(b))
    assert (m1, m0) == (2500, pytest.approx(333.333, abs=1e-3))
    # sample variances by hand: Σ(x−m)²/(n−1)
    assert v1 == pytest.approx(sum((x - 2500) ** 2 for x in a) / 7)
    assert v0 == pytest.approx(sum((x - 2000 / 6) ** 2 for x in b) / 5)
    got = welch_uplift(mean1=m1, var1=v1, n1=8, mean0=m0, var0=v0, n0=6)
    se = math.sqrt(v1 / 8 + v0 / 6)
    df = (v1 / 8 + v0 / 6) ** 2 / ((v1 / 8) ** 2 / 7 + (v0 / 6) ** 2 / 5)
    # By hand: Σ(a−2500)² = 128,000,000 → s1² = 18,285,714.3; Σ(b−333.3)² = 3,333,333.3 → s0² = 666,666.7
    # se = √(2,285,714.3 + 111,111.1) = 1548.17; ν = 2,396,825.4² / (2,285,714.3²/7 + 111,111.1²/5) = 7.672
    assert se == pytest.approx(1548.17, abs=0.01)
    assert df == pytest.approx(7.672, abs=0.001)
    t = 2.3233  # t(0.975, 7.672): between the table's 2.365 (7) and 2.306 (8)
    assert got.diff == pytest.approx(2166.667, abs=1e-3)
    assert got.low == pytest.approx(2166.667 - t * se, abs=2)
    assert got.high == pytest.approx(2166.667 + t * se, abs=2)


def test_welch_agrees_with_scipy():
    from scipy import stats

    a = [0, 0, 0, 5000, 12000, 0, 3000, 0]
    b = [0, 0, 2000, 0, 0, 0]
    m1, v1 = mean_var(total=sum(a), squares=sum(x * x for x in a), n=len(a))
    m0, v0 = mean_var(total=sum(b), squares=sum(x * x for x in b), n=len(b))
    got = welch_uplift(mean1=m1, var1=v1, n1=8, mean0=m0, var0=v0, n0=6)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (got.low, got.high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_small_groups_and_roi():
    assert conversion_uplift(x1=1, n1=0, x0=0, n0=10) is None
    assert welch_uplift(mean1=1, var1=0, n1=1, mean0=0, var0=0, n0=5) is None
    assert roi(incremental_profit=0, discounts=0, message_cost=0) is None
    assert roi(incremental_profit=3000, discounts=500, message_cost=500) == 2.0
