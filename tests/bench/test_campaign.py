"""bench/campaign.py at a smoke size (PostgreSQL pass): it prepares a campaign, times its results and
ends with its ratio."""

from .test_benchmarks import needs_postgresql, pg_bench_env, run_bench  # noqa: F401  # pg_bench_env: a fixture


@needs_postgresql
def test_campaign_bench(pg_bench_env):  # noqa: F811  # the fixture imported above
    summary, out = run_bench("campaign.py", {**pg_bench_env, "BENCH_CAMPAIGN_CUSTOMERS": "3000"})
    assert list(summary) == ["campaign_prepare_vs_bulk_insert"]
    assert summary["campaign_prepare_vs_bulk_insert"] > 0
    assert "customers=3000 control=" in out and "ours_rows_per_s=" in out and "bulk_rows_per_s=" in out
    # the results at the bench's size: about every 20th recipient (by row id) ordered in the window
    (line,) = [x for x in out.splitlines() if x.startswith("campaign_results_orders=")]
    figures = dict(part.split("=") for part in line.split())
    assert 140 <= int(figures["campaign_results_orders"]) <= 160 and float(figures["campaign_results_ms"]) > 0
