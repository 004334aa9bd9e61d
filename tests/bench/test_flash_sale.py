"""The flash-sale bench at a smoke size (PostgreSQL pass): it runs, sells every unit once, and
nobody gets more than the limit."""

from .test_benchmarks import needs_postgresql, pg_bench_env, run_bench  # noqa: F401 - the fixture


@needs_postgresql
def test_flash_sale_bench(pg_bench_env):  # noqa: F811 - the imported fixture
    env = {**pg_bench_env, "BENCH_CLIENTS": "4", "BENCH_FLASH_STOCK": "8", "BENCH_BUYERS": "20"}
    # Two rounds: the second finds the item restocked after the first sold it out (its marks cleared or expired).
    env.update({"BENCH_WEB_WORKERS": "2", "BENCH_PORT": "", "BENCH_ROUNDS": "2"})
    summary, out = run_bench("flash_sale.py", env)
    assert set(summary) == {"flash_sale_vs_raw_db", "oversold", "over_limit"}
    assert summary["oversold"] == 0 and summary["over_limit"] == 0
    assert summary["flash_sale_vs_raw_db"] > 0
    assert "api / raw db per round: " in out
    assert (
        "sold 8, 8 of 8 (each round) to 20 buyers (5 second tries); raw sold 8, 8, raw oversold 0, raw over limit 0"
        in out
    )
