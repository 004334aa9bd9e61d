"""bench/analytics.py at a smoke size: it builds its data, times every dashboard report, prints the
table and its summary line (PostgreSQL only: the data are made with generate_series)."""

from .test_benchmarks import needs_postgresql, pg_bench_env, run_bench  # noqa: F401 - pg_bench_env is a fixture


@needs_postgresql
def test_analytics_bench(pg_bench_env):  # noqa: F811
    env = {**pg_bench_env, "BENCH_SIZES": "400,2000", "BENCH_RUNS": "1"}
    summary, out = run_bench("analytics.py", env)
    assert list(summary) == ["dashboard_growth_10k_to_1m"]
    assert summary["dashboard_growth_10k_to_1m"] > 0
    for name in (
        "baseline_full_scan",
        "trends_30d_by_day",
        "funnel_90d",
        "profit_30d_vs_30d",
        "cohorts_12m",
        "repurchase_1y",
    ):
        assert name in out
    assert "2000 orders generated" in out
    assert "2000 orders: buyer summary rebuilt (500 rows)" in out
