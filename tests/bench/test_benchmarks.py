"""Every benchmark runs at a smoke size, so a schema change that breaks one fails `make test`.

Each bench is launched as `make bench-*` would launch it, as a subprocess with tiny sizes, and must
exit 0 and end with its summary line `name=value …` holding sane figures. The figures themselves
are not asserted: they measure the machine as much as the code.

Each test pass runs its own database's variants: the SQLite pass the SQLite ones; the PostgreSQL
pass (SIYU_TEST_DATABASE_URL set) the PostgreSQL ones, each in a database of its own that the bench
makes and drops, never the pytest test database.
"""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("SIYU_TEST_DATABASE_URL", "")
needs_postgresql = pytest.mark.skipif(not PG_URL, reason="PostgreSQL benches run on the PostgreSQL pass")
sqlite_pass = pytest.mark.skipif(bool(PG_URL), reason="SQLite benches run on the SQLite pass")
TIMEOUT = 240


def run_bench(script: str, env: dict[str, str]) -> tuple[dict[str, float], str]:
    """Run bench/<script>; returns its summary line as numbers, and all it printed."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a group of its own: a timeout stops the bench and its children
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # the bench unwinds: stops its web server, drops its database
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        pytest.fail(f"{script} ran past {TIMEOUT}s:\n{out[-6000:]}")
    assert proc.returncode == 0, out[-6000:]
    summary = out.strip().splitlines()[-1]
    pairs = dict(item.split("=", 1) for item in summary.split())
    return {name: float(value) for name, value in pairs.items()}, out


@pytest.fixture
def pg_bench_env(tmp_path, request):
    """Env for a PostgreSQL bench: the test server, and a database name no one else uses."""
    import psycopg

    name = f"siyu_bench_smoke_{os.getpid()}_{request.node.name[5:30].lower()}"
    yield {"BENCH_ADMIN_DATABASE_URL": PG_URL, "BENCH_DATABASE_NAME": name, "BENCH_DATA_DIR": str(tmp_path)}
    with psycopg.connect(PG_URL, autocommit=True) as conn:  # in case the bench was killed before its own drop
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@needs_postgresql
def test_checkout_bench(pg_bench_env):
    env = {**pg_bench_env, "BENCH_CLIENTS": "4", "BENCH_STOCK": "40", "BENCH_WEB_WORKERS": "2", "BENCH_PORT": ""}
    env["BENCH_ROUNDS"] = "2"  # alternation, and the workers' sold-out marks expiring between rounds
    env.update({"BENCH_RUSH_BUYERS": "20", "BENCH_RUSH_STOCK": "5", "BENCH_SERVERS": "gunicorn-sync,granian"})
    summary, out = run_bench("checkout.py", env)
    assert set(summary) == {"checkout_vs_raw_db", "oversold", "queries_per_order"}
    assert summary["oversold"] == 0
    assert summary["checkout_vs_raw_db"] > 0
    assert 0 < summary["queries_per_order"] < 40
    assert "sold 40, 40 of 40 (each round; rush stock left 0); raw oversold 0" in out
    assert re.search(r"api / raw db per round: [0-9.]+ [0-9.]+ \(", out), out
    assert "rush: 20 buyers at once for 5 units, 5 bought; rush_p50_ms=" in out
    for line in ("server gunicorn-sync: 40 orders in", "server granian: 40 orders in", "minimal: 40 orders in"):
        assert line in out  # each setup sold the whole stock
    assert "minimal_view_rps=" in out
    # The in-process profile ran and found every phase (a renamed function would read 0.00).
    profile = re.search(r"checkout_cpu_ms=[\d.]+ \(.*?ms each: (.*)\)", out)
    assert profile is not None, out
    phases = dict(part.rsplit(" ", 1) for part in profile.group(1).split("; "))
    assert "order INSERT" in phases and all(float(ms) > 0 for ms in phases.values()), phases


@needs_postgresql
def test_customers_bench_on_postgresql(pg_bench_env):
    env = {**pg_bench_env, "BENCH_CUSTOMERS": "150", "BENCH_ORDERS": "400", "BENCH_DATABASES": "postgresql"}
    summary, out = run_bench("customers.py", env)
    assert list(summary) == ["import_vs_bulk_insert", "segment_vs_raw_sql", "import_peak_rss_mb"]
    assert all(value > 0 for value in summary.values())
    assert "postgresql:" in out and "checks: all passed" in out and "peak RSS of the importing process" in out


@sqlite_pass
def test_customers_bench_on_sqlite(tmp_path):
    # A DATABASE_URL in the shell must not pull the SQLite run onto another database: point it at
    # one that does not exist, so any use of it fails the bench.
    env = {"BENCH_CUSTOMERS": "150", "BENCH_ORDERS": "400", "BENCH_DATABASES": "sqlite"}
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:9/no_such_database"
    summary, out = run_bench("customers.py", env)
    assert list(summary) == ["import_vs_bulk_insert", "segment_vs_raw_sql", "import_peak_rss_mb"]
    assert all(value > 0 for value in summary.values())
    assert "sqlite:" in out and "checks: all passed" in out


@needs_postgresql
def test_commissions_bench(pg_bench_env):
    env = {**pg_bench_env, "BENCH_LINES": "400", "BENCH_PROMOTERS": "30", "BENCH_TIERS": "2"}
    summary, out = run_bench("commissions.py", env)
    assert set(summary) == {"commission_vs_bulk_insert"}
    assert summary["commission_vs_bulk_insert"] > 0
    assert "checks: all passed" in out


@needs_postgresql
def test_load_bench(pg_bench_env):
    """The shopper mix at a smoke size: a few shoppers for a few seconds, and not one failed request."""
    env = {**pg_bench_env, "BENCH_SECONDS": "6", "BENCH_USERS": "3", "BENCH_SPAWN_RATE": "3"}
    env.update({"BENCH_PRODUCTS": "20", "BENCH_WEB_WORKERS": "1", "BENCH_WEB_THREADS": "2", "BENCH_PORT": ""})
    summary, out = run_bench("load_runner.py", env)
    assert list(summary) == ["mix_rps", "p95_ms", "errors"]
    assert summary["errors"] == 0
    assert summary["mix_rps"] > 0 and summary["p95_ms"] > 0
    for kind in ("browse home", "browse category", "browse product", "cart add", "checkout"):
        assert kind in out
    assert "web worker RSS MB before=" in out


def test_the_minimal_checkout_view_is_only_in_the_bench_server():
    """The checkout bench's minimal view is served by the bench's own settings, never by the product."""
    from django.conf import settings
    from django.urls import Resolver404, resolve

    from bench.minimal_view import minimal_checkout

    assert "bench" not in settings.ROOT_URLCONF
    try:
        match = resolve("/bench/minimal-checkout")
    except Resolver404:
        return
    assert match.func is not minimal_checkout
