"""BG/NBD and Gamma-Gamma against the papers' published figures and against `lifetimes`.

The data are CDNOW's 1/10 sample as `lifetimes` ships it (a test-only dependency), calibration
period 39 weeks, 2,357 customers: Fader, Hardie and Lee (2005) "Counting Your Customers the Easy
Way" report r = 0.243, α = 4.414, a = 0.793, b = 2.426 (LL = -9582.4); their "RFM and CLV" paper's
Gamma-Gamma on the same customers' repeat spend reports p = 6.25, q = 3.74, γ = 15.44.
"""

import csv
import importlib.resources

import numpy as np
import pytest

from siyu.analytics import clv_models as m

lifetimes = pytest.importorskip("lifetimes")

PAPER_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow():
    text = importlib.resources.files("lifetimes.datasets").joinpath("cdnow_customers_summary_with_transactions.csv")
    rows = list(csv.DictReader(text.read_text().splitlines()))
    assert len(rows) == 2357
    return {key: np.array([float(r[key]) for r in rows]) for key in ("x", "t_x", "T", "zbar")}


@pytest.fixture(scope="module")
def fitted(cdnow):
    bg = m.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    gg = m.gamma_gamma_fit(cdnow["x"], cdnow["zbar"])
    return bg, gg


def _within(value: float, expected: float, share: float = 0.01) -> bool:
    return abs(value / expected - 1) <= share


def test_the_summary_file_is_the_papers_sample():
    text = importlib.resources.files("lifetimes.datasets").joinpath("cdnow_customers_summary.csv").read_text()
    assert len(text.splitlines()) == 2357 + 1


def test_bgnbd_reproduces_the_paper(fitted):
    bg, _gg = fitted
    for name, expected in PAPER_BGNBD.items():
        assert _within(getattr(bg, name), expected), (name, getattr(bg, name), expected)
    assert abs(bg.log_likelihood - (-9582.4)) < 1.0


def test_gamma_gamma_reproduces_the_paper(fitted):
    _bg, gg = fitted
    for name, expected in PAPER_GG.items():
        assert _within(getattr(gg, name), expected), (name, getattr(gg, name), expected)


def test_parameters_and_predictions_agree_with_lifetimes(cdnow, fitted):
    bg, gg = fitted
    x, tx, T, z = cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"]
    theirs = lifetimes.BetaGeoFitter().fit(x, tx, T)
    for name in ("r", "alpha", "a", "b"):
        assert _within(getattr(bg, name), theirs.params_[name]), name
    repeat = x > 0
    their_gg = lifetimes.GammaGammaFitter().fit(x[repeat], z[repeat])
    for name, theirs_name in (("p", "p"), ("q", "q"), ("gamma", "v")):
        assert _within(getattr(gg, name), their_gg.params_[theirs_name]), name

    assert np.allclose(m.p_alive(bg, x, tx, T), theirs.conditional_probability_alive(x, tx, T), rtol=0.01)
    for weeks in (13, 52, 156):
        ours = m.expected_purchases(bg, weeks, x, tx, T)
        expected = theirs.conditional_expected_number_of_purchases_up_to_time(weeks, x, tx, T)
        assert np.allclose(ours, expected, rtol=0.01), weeks
    assert np.allclose(
        m.expected_spend(gg, x[repeat], z[repeat]),
        their_gg.conditional_expected_average_profit(x[repeat], z[repeat]),
        rtol=0.01,
    )


def test_clv_matches_lifetimes_discounted_monthly_sum(cdnow, fitted):
    """lifetimes' customer_lifetime_value sums the same monthly expected purchases, discounted at
    the end of each month; with the model's time unit in weeks a month is 365.25/12/7 weeks."""
    import pandas as pd

    bg, gg = fitted
    x, tx, T, z = cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"]
    theirs = lifetimes.BetaGeoFitter().fit(x, tx, T)
    their_gg = lifetimes.GammaGammaFitter().fit(x[x > 0], z[x > 0])
    ours = m.lifetime_value(bg, gg, x=x, tx=tx, T=T, z=z, months=12, monthly_discount=0.01, days_per_unit=7)
    expected = their_gg.customer_lifetime_value(
        theirs,
        pd.Series(x),
        pd.Series(tx),
        pd.Series(T),
        pd.Series(z),
        time=12,
        discount_rate=0.01,
        freq="W",
    ).to_numpy()
    # lifetimes' month is 30 days; ours is 30.44: compare the sums, not the steps
    assert np.allclose(ours, expected, rtol=0.03)


def test_heavy_buyers_and_long_horizons_stay_finite():
    bg = m.BgNbd(r=0.24, alpha=4.4, a=0.79, b=2.4)
    x = np.array([0, 1, 50, 300, 2000.0])
    tx = np.array([0, 5, 38, 38.5, 38.8])
    T = np.full(5, 39.0)
    for t in (1, 52, 520, 5200):
        e = m.expected_purchases(bg, t, x, tx, T)
        assert np.all(np.isfinite(e)) and np.all(e >= 0)
    assert np.all((m.p_alive(bg, x, tx, T) > 0) & (m.p_alive(bg, x, tx, T) <= 1))
    assert np.all(np.isfinite(m.bgnbd_log_likelihood(bg, x, tx, T)))


def test_too_few_customers_or_no_repeaters_is_a_clear_error():
    with pytest.raises(m.ClvDataTooFew) as few:
        m.bgnbd_fit([1, 0, 2], [3, 0, 5], [10, 10, 10])
    assert few.value.code == "clv_too_few_customers" and few.value.detail["customers"] == 3
    with pytest.raises(m.ClvDataTooFew):
        m.bgnbd_fit([0] * 50, [0] * 50, [10] * 50)
    with pytest.raises(m.ClvDataTooFew):
        m.gamma_gamma_fit([0] * 50, [0] * 50)


def test_identical_rows_are_fitted_once_with_their_count():
    # The fit's speed rests on this: one row per distinct (x, t_x, T) with its weight.
    x = np.array([0.0, 2.0, 0.0, 2.0, 0.0, 1.0])
    t = np.array([0.0, 5.0, 0.0, 5.0, 0.0, 3.0])
    (ux, ut), counts = m._aggregate(x, t)
    assert ux.tolist() == [0.0, 1.0, 2.0]
    assert ut.tolist() == [0.0, 3.0, 5.0]
    assert counts.tolist() == [3.0, 1.0, 2.0]


def test_weighted_fit_equals_the_fit_of_every_row(cdnow):
    doubled = {k: np.concatenate([v, v]) for k, v in cdnow.items()}
    once = m.bgnbd_fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    twice = m.bgnbd_fit(doubled["x"], doubled["t_x"], doubled["T"])
    for name in ("r", "alpha", "a", "b"):
        assert _within(getattr(twice, name), getattr(once, name), 1e-4)
    assert twice.log_likelihood == pytest.approx(2 * once.log_likelihood, rel=1e-6)
