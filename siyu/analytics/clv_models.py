"""BG/NBD and Gamma-Gamma, fitted by maximum likelihood: pure numpy/scipy, no Django.

Written from the papers, not from any library:
- BG/NBD: Fader, Hardie and Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
  Pareto/NBD Model", Marketing Science 24(2). Equations (6) (likelihood), (10) (expected purchases
  in the next t, conditional on x, t_x, T) and the appendix of Fader & Hardie's note "Computing
  P(alive) using the BG/NBD model" (2008).
- Gamma-Gamma: Fader, Hardie and Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer
  Base Analysis", J. Marketing Research 42(4), and Fader & Hardie's note "The Gamma-Gamma Model of
  Monetary Value" (2013): the density of a customer's mean spend z̄ over x repeat purchases and the
  conditional expectation E[M | p, q, γ, x, z̄] = p(γ + x z̄) / (p x + q - 1).

Numerics. Every likelihood term is in log space (gammaln, betaln) and the BG/NBD's two terms meet
through logaddexp, so a customer with 200 purchases neither overflows nor underflows. Parameters are
optimised as logs inside bounds (L-BFGS-B) with analytic gradients (digamma), so they stay positive
and each iteration costs one pass over the data. Identical (x, t_x, T) rows are fitted once with a
weight: shops (and CDNOW) have many customers who bought once on the same day. Times are rescaled
so the largest T is 10 while fitting, and spends so their mean is 1; α and γ are scaled back after.

Expected purchases use Pfaff transformations of the Gauss hypergeometric function. The paper's
((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(α+T+t)) multiplies a huge 2F1 by a tiny power for
heavy buyers and long horizons. With s = t/(α+T), 2F1(A, B; C; z) = (1-z)^-A 2F1(A, C-B; C; z/(z-1))
cancels the power exactly and leaves 2F1(r+x, a-1; a+b+x-1; -s); the second transformation,
2F1(A, B; C; z) = (1-z)^-B 2F1(C-A, B; C; z/(z-1)), turns that into
(1+s)^(1-a) 2F1(a+b-1-r, a-1; a+b+x-1; s/(1+s)): small first two parameters and an argument in
[0, 1), which stays finite where the direct form gives inf/NaN (x = 300 over a year, say).
"""

from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext_lazy as _
from scipy.optimize import minimize
from scipy.special import betaln, expit, gammaln, hyp2f1, psi

from siyu.core.errors import DomainError

MIN_CUSTOMERS = 20
MIN_REPEATERS = 1
_LOG_BOUNDS = (np.log(1e-6), np.log(1e6))


class ClvDataTooFew(DomainError):
    """Too little data for a fit: under MIN_CUSTOMERS buyers, or nobody who bought twice."""

    code = "clv_too_few_customers"
    status = 409


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = 0.0


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float
    log_likelihood: float = 0.0


def _aggregate(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the columns and how many times each appears (a lexsort, then the places
    where any column changes: several times faster than np.unique(axis=0))."""
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    change = np.zeros(len(order), dtype=bool)
    change[:1] = True  # the first row starts a group; any other only where a column changes
    for c in ordered:
        change[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, len(order)))
    return [c[starts] for c in ordered], counts.astype(float)


# --- BG/NBD -----------------------------------------------------------------------------------


def _bgnbd_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, distinct=None):
    """Per-row log-likelihood and its gradient with respect to the log-parameters. The special
    functions of x are computed once per distinct x (a few dozen values) and spread to the rows;
    `distinct` is `np.unique(x, return_inverse=True)`, passed in by a fit that asks many times."""
    r, alpha, a, b = np.exp(params)
    xs, at = distinct if distinct is not None else np.unique(x, return_inverse=True)
    has_s = xs > 0
    x1s = np.where(has_s, xs, 1.0)  # keeps betaln(a + 1, b + x - 1) defined where it is not used
    beta_ab = betaln(a, b)
    ab = psi(a + b)
    abx = psi(a + b + xs)
    per_x = np.stack(
        [
            gammaln(r + xs) - gammaln(r),  # 0
            betaln(a, b + xs) - beta_ab,  # 1
            np.where(has_s, betaln(a + 1, b + x1s - 1) - beta_ab, 0.0),  # 2
            psi(r + xs) - psi(r),  # 3
            ab - abx,  # 4: d_a of the first term
            psi(a + 1) - abx - psi(a) + ab,  # 5: d_a of the second
            psi(b + xs) - abx - psi(b) + ab,  # 6: d_b of the first
            np.where(has_s, psi(b + x1s - 1), 0.0) - abx - psi(b) + ab,  # 7: d_b of the second
        ]
    )[:, at]
    has = x > 0
    log_aT, log_at = np.log(alpha + T), np.log(alpha + tx)
    a1 = per_x[0] + r * np.log(alpha)
    a2 = per_x[1] - (r + x) * log_aT
    a3 = np.where(has, per_x[2] - (r + x) * log_at, -np.inf)
    mix = np.logaddexp(a2, a3)
    ll = a1 + mix
    w2 = np.exp(a2 - mix)
    w3 = 1.0 - w2
    d_r = per_x[3] + np.log(alpha) - w2 * log_aT - w3 * log_at
    d_alpha = r / alpha - (r + x) * (w2 / (alpha + T) + w3 / (alpha + tx))
    d_a = w2 * per_x[4] + w3 * per_x[5]
    d_b = w2 * per_x[6] + w3 * per_x[7]
    grad = np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def bgnbd_log_likelihood(model: BgNbd, x, tx, T) -> np.ndarray:
    """Each customer's log-likelihood under `model` (equation 6 of the paper, in log space)."""
    params = np.log([model.r, model.alpha, model.a, model.b])
    ll, _grad = _bgnbd_terms(params, *(np.asarray(v, dtype=float) for v in (x, tx, T)))
    return ll


def _check_data(x: np.ndarray) -> None:
    if len(x) < MIN_CUSTOMERS:
        raise ClvDataTooFew(
            _("Too few customers with a purchase to fit the lifetime value model."),
            detail={"customers": int(len(x)), "at_least": MIN_CUSTOMERS},
        )
    if int((x > 0).sum()) < MIN_REPEATERS:
        raise ClvDataTooFew(
            _("No customer has bought a second time yet, so repeat buying cannot be fitted."), detail={}
        )


def bgnbd_fit(x, tx, T) -> BgNbd:
    """Maximum-likelihood BG/NBD for repeat purchases x, recency t_x and age T (any one time unit)."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    _check_data(x)
    scale = 10.0 / float(T.max()) if T.max() > 0 else 1.0
    (ux, utx, uT), weights = _aggregate(x, tx * scale, T * scale)
    total = weights.sum()
    distinct = np.unique(ux, return_inverse=True)

    def objective(params: np.ndarray):
        ll, grad = _bgnbd_terms(params, ux, utx, uT, distinct)
        return -float(weights @ ll) / total, -(grad @ weights) / total

    best = minimize(objective, np.zeros(4), jac=True, method="L-BFGS-B", bounds=[_LOG_BOUNDS] * 4)
    r, alpha, a, b = np.exp(best.x)
    fitted = BgNbd(r=float(r), alpha=float(alpha / scale), a=float(a), b=float(b))
    # In the data's own time unit (rescaling time changes the density of the purchase times).
    ll = float(
        weights @ _bgnbd_terms(np.log([fitted.r, fitted.alpha, fitted.a, fitted.b]), ux, utx / scale, uT / scale)[0]
    )
    return BgNbd(r=fitted.r, alpha=fitted.alpha, a=fitted.a, b=fitted.b, log_likelihood=ll)


def _log_odds_dead(model: BgNbd, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log of a/(b + x - 1) × ((α + T)/(α + t_x))^(r + x); -inf for customers with no repeat purchase
    (they cannot have dropped out after a purchase they never made)."""
    has = x > 0
    x1 = np.where(has, x, 1.0)
    value = (
        np.log(model.a)
        - np.log(model.b + x1 - 1)
        + (model.r + x) * (np.log(model.alpha + T) - np.log(model.alpha + tx))
    )
    return np.where(has, value, -np.inf)


def p_alive(model: BgNbd, x, tx, T) -> np.ndarray:
    """P(still a customer | x, t_x, T) = 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x))."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    return expit(-_log_odds_dead(model, x, tx, T))


def expected_purchases(model: BgNbd, t: float, x, tx, T) -> np.ndarray:
    """E[purchases in the next t | x, t_x, T] (equation 10), through the Pfaff transformations of the
    module's docstring: (a+b+x-1)/(a-1) × [1 - (1+s)^(1-a) 2F1(a+b-1-r, a-1; a+b+x-1; s/(1+s))] × P(alive),
    s = t/(α+T)."""
    x, tx, T = (np.array(v, dtype=float) for v in np.broadcast_arrays(*(np.atleast_1d(v) for v in (x, tx, T))))
    if t <= 0:
        return np.zeros_like(x)
    a = model.a if abs(model.a - 1.0) > 1e-9 else 1.0 + 1e-9  # the formula's removable 0/0 at a = 1
    c = a + model.b + x - 1
    hyper = _hyper(model.r, model.alpha, a, model.b, x, T, t)
    return np.nan_to_num(c / (a - 1) * (1.0 - hyper) * p_alive(model, x, tx, T), nan=0.0, posinf=0.0)


def _hyper(r: float, alpha: float, a: float, b: float, x: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
    """((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(α+T+t)) by the first of three equal forms
    that is finite: the doubly transformed one (heavy buyers, long horizons), the once transformed
    one (a and b both huge, the fit's "nobody drops out" limit) and the paper's own."""
    c = a + b + x - 1
    s = t / (alpha + T)
    with np.errstate(all="ignore"):
        out = np.exp((1 - a) * np.log1p(s)) * hyp2f1(a + b - 1 - r, a - 1, c, s / (1 + s))
        bad = ~np.isfinite(out)
        if bad.any():
            out[bad] = hyp2f1(r + x[bad], a - 1, c[bad], -s[bad])
            bad = ~np.isfinite(out)
        if bad.any():
            power = np.exp((r + x[bad]) * np.log((alpha + T[bad]) / (alpha + T[bad] + t)))
            out[bad] = power * hyp2f1(r + x[bad], b + x[bad], c[bad], t / (alpha + T[bad] + t))
    return out


# --- Gamma-Gamma ------------------------------------------------------------------------------


def _gg_terms(params: np.ndarray, x: np.ndarray, z: np.ndarray):
    p, q, g = np.exp(params)
    px = p * x
    log_xz = np.log(g + x * z)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + px * np.log(x)
        + (px - 1) * np.log(z)
        - (px + q) * log_xz
    )
    both = psi(px + q)
    d_p = x * (both - psi(px) + np.log(x) + np.log(z) - log_xz)
    d_q = both - psi(q) + np.log(g) - log_xz
    d_g = q / g - (px + q) / (g + x * z)
    return ll, np.stack([d_p * p, d_q * q, d_g * g])


def gamma_gamma_fit(x, z) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma for repeat buyers: x repeat purchases with mean spend z̄ > 0."""
    x, z = np.asarray(x, dtype=float), np.asarray(z, dtype=float)
    keep = (x > 0) & (z > 0)
    x, z = x[keep], z[keep]
    if len(x) < MIN_REPEATERS:
        raise ClvDataTooFew(
            _("No customer has bought a second time yet, so repeat buying cannot be fitted."), detail={}
        )
    scale = float(z.mean())
    (ux, uz), weights = _aggregate(x, z / scale)
    total = weights.sum()

    def objective(params: np.ndarray):
        ll, grad = _gg_terms(params, ux, uz)
        return -float(weights @ ll) / total, -(grad @ weights) / total

    best = minimize(objective, np.zeros(3), jac=True, method="L-BFGS-B", bounds=[_LOG_BOUNDS] * 3)
    p, q, g = np.exp(best.x)
    # The density of z̄ scales by 1/scale per customer: the log-likelihood in the data's own units.
    ll = -best.fun * total - len(x) * np.log(scale)
    return GammaGamma(p=float(p), q=float(q), gamma=float(g * scale), log_likelihood=float(ll))


def expected_spend(model: GammaGamma, x, z) -> np.ndarray:
    """E[spend per purchase | x, z̄] = p(γ + x z̄)/(p x + q - 1); with no repeat purchase, the
    population mean pγ/(q - 1). Needs q > 1 (a finite mean); otherwise the customers' own mean."""
    x, z = np.asarray(x, dtype=float), np.asarray(z, dtype=float)
    z = np.where(x > 0, z, 0.0)
    if model.q <= 1:
        return z
    return model.p * (model.gamma + x * z) / (model.p * x + model.q - 1)


# --- lifetime value ---------------------------------------------------------------------------


def lifetime_value(
    bg: BgNbd, gg: GammaGamma, *, x, tx, T, z, months: int, monthly_discount: float, days_per_unit: float = 1.0
) -> np.ndarray:
    """Discounted expected spend over the next `months`:
    CLV = E[spend per purchase] × Σ_{i=1..months} (E[Y(i m)] - E[Y((i-1) m)]) / (1 + d)^i,
    with m a month (365.25/12 days) in the model's time unit, E[Y(t)] the expected purchases in the
    next t (conditional on the customer's history) and d the monthly discount rate: each month's
    expected purchases are discounted back to today at the end of that month."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    month = 365.25 / 12 / days_per_unit
    total = np.zeros_like(x)
    before = np.zeros_like(x)
    for i in range(1, months + 1):
        upto = expected_purchases(bg, i * month, x, tx, T)
        total += (upto - before) / (1.0 + monthly_discount) ** i
        before = upto
    return total * expected_spend(gg, x, z)
