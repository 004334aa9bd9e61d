"""bench/clv.py at a smoke size: the fits on CDNOW (both passes), the SQL summary on PostgreSQL."""

import pytest

from .test_benchmarks import needs_postgresql, run_bench, sqlite_pass
from .test_benchmarks import pg_bench_env as pg_bench_env  # noqa: F401  (the fixture, by its name)

pytest.importorskip("lifetimes")
NAMES = {"clv_fit_vs_lifetimes", "r", "alpha", "a", "b", "p", "q", "gamma"}


def _check(summary: dict) -> None:
    assert set(summary) == NAMES
    assert summary["clv_fit_vs_lifetimes"] > 0
    assert summary["r"] == pytest.approx(0.243, rel=0.01) and summary["gamma"] == pytest.approx(15.44, rel=0.01)


@sqlite_pass
def test_clv_bench_fits():
    summary, out = run_bench("clv.py", {"BENCH_CLV_SQL": "0", "BENCH_REPEATS": "1"})
    _check(summary)
    assert "CDNOW master: 23,570 customers" in out


@needs_postgresql
def test_clv_bench_with_sql_summary(pg_bench_env):  # noqa: F811
    env = {**pg_bench_env, "BENCH_REPEATS": "1", "BENCH_CLV_CUSTOMERS": "300", "BENCH_CLV_ORDERS": "2000"}
    summary, out = run_bench("clv.py", env)
    _check(summary)
    assert "clv_summary" in out and "for 300 rows" in out
