"""Uplift with 95% confidence intervals, written out so a reader can check them by hand.

Conversion (share of recipients who ordered): two-proportion z interval with the unpooled
standard error,  d = p1 − p0,  se = √(p1(1−p1)/n1 + p0(1−p0)/n0),  d ± z·se  (z = 1.959964).
Revenue per recipient: Welch's interval,  d = m1 − m0,  se = √(s1²/n1 + s0²/n0),
ν = se⁴ / ((s1²/n1)²/(n1−1) + (s0²/n0)²/(n0−1)),  d ± t(0.975, ν)·se.
Group variances come from per-recipient sums and sums of squares (one SQL pass, no per-row fetch).
These are statistics for display, not money: floats are fine here.
"""

import math
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    diff: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def z_value(level: float = LEVEL) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def conversion_uplift(*, x1: int, n1: int, x0: int, n0: int, level: float = LEVEL) -> Interval | None:
    """Treatment x1 of n1 converted, control x0 of n0: the difference of shares with its interval."""
    if n1 < 1 or n0 < 1:
        return None
    p1, p0 = x1 / n1, x0 / n0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    half = z_value(level) * se
    return Interval(p1 - p0, p1 - p0 - half, p1 - p0 + half)


def mean_var(*, total: float, squares: float, n: int) -> tuple[float, float]:
    """Mean and sample variance (n − 1) from a sum and a sum of squares."""
    if n < 1:
        return 0.0, 0.0
    mean = total / n
    if n < 2:
        return mean, 0.0
    return mean, max((squares - total * total / n) / (n - 1), 0.0)


def welch_uplift(
    *, mean1: float, var1: float, n1: int, mean0: float, var0: float, n0: int, level: float = LEVEL
) -> Interval | None:
    """Difference of means with Welch's interval (unequal variances)."""
    if n1 < 2 or n0 < 2:
        return None
    a, b = var1 / n1, var0 / n0
    se = math.sqrt(a + b)
    diff = mean1 - mean0
    if se == 0:
        return Interval(diff, diff, diff)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n0 - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return Interval(diff, diff - half, diff + half)


def roi(*, incremental_profit: float, discounts: int, message_cost: int) -> float | None:
    """(incremental gross profit − discounts − message cost) / (discounts + message cost)."""
    spend = discounts + message_cost
    if spend <= 0:
        return None
    return (incremental_profit - spend) / spend
