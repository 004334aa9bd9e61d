"""Checkout under a rush: N concurrent HTTP clients buy one limited SKU through the real API.

Runs on PostgreSQL with the production web server (`siyu serve`'s default, several workers). The
API checkout and a baseline doing its essential statements straight through psycopg are run
alternately BENCH_ROUNDS times (default 3) while the server stays up, so that each pair shares what
the machine is doing at the time; the summary ratio is the median of the rounds'. Then a rush of
BENCH_RUSH_BUYERS at once. Also in the same run, at the same concurrency:
- the API checkout under each server setup in BENCH_SERVERS (gunicorn sync / gthread, granian's
  WSGI server, without gc.freeze, with a database connection per request), one after the other;
- a minimal Django view (bench/minimal_view.py, served only by this bench's own server) running the
  same three statements (stock decrement, order insert, line insert): `minimal_view_rps=…`;
- the psycopg baseline above runs those same statements.
Prints orders/s, p50/p99 latency, oversold count and SQL queries per order, and ends with:
    checkout_vs_raw_db=<ratio> oversold=<n> queries_per_order=<n>

    make bench-checkout                      # defaults below
    BENCH_CLIENTS=32 BENCH_STOCK=1500 make bench-checkout
    BENCH_SERVERS=granian,gunicorn-sync make bench-checkout    # compare only these ("" for none)

Before the HTTP runs it prints `checkout_cpu_ms=…`: CPU per API checkout in process, split by phase
(a cProfile run), which is where the README's profile comes from.

The baseline's INSERT columns come from the live Order and OrderLine models (bench/live_schema.py),
so a migration cannot silently break it. The database (BENCH_DATABASE_NAME) is made and dropped
here; the web server listens on a free port unless BENCH_PORT is set. tests/bench runs this at a
smoke size in `make test`.
"""

import functools
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.processes import stop_group  # noqa: E402 (needs ROOT on the path)

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench")
DB_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "24"))
STOCK = int(os.environ.get("BENCH_STOCK", "1200"))
ATTEMPTS = int(STOCK * 1.25)  # more buyers than units: the surplus must all be refused
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
RUSH_BUYERS = int(os.environ.get("BENCH_RUSH_BUYERS", "500"))  # all at once, for RUSH_STOCK units
RUSH_STOCK = int(os.environ.get("BENCH_RUSH_STOCK", "100"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))  # API and raw runs alternated; the summary is the median


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = int(os.environ.get("BENCH_PORT") or free_port())

ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "bench-" + secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SIYU_DATA_DIR": os.environ.get("BENCH_DATA_DIR") or str(ROOT / "var" / "bench"),
    "SIYU_SANDBOX_PAYMENTS": "true",
    "DB_CONN_MAX_AGE": "600",
}


def recreate_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)


def drop_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def django_setup():
    os.environ.update(ENV)
    import django

    django.setup()


def make_fixture(n_buyers: int):
    """One shop, one SKU with STOCK units, n buyers each with an address and an API token."""
    from siyu.accounts.models import Address, Shopper
    from siyu.accounts.services import token_issue
    from siyu.catalog.models import Product, Sku
    from siyu.core.crypto import lookup_hash
    from siyu.shops.services import shop_create

    shop = shop_create(slug="bench", name="压测小店", is_default=True)
    product = Product.objects.create(shop=shop, name="秒杀款", status="on_sale", price_min=990, price_max=990)
    sku = Sku.objects.create(shop=shop, product=product, price=990, stock=STOCK)
    buyers = []
    for i in range(n_buyers):
        phone = f"1380000{i:04d}"
        shopper = Shopper.objects.create(phone_hash=lookup_hash(phone), phone=phone)
        address = Address.objects.create(
            shop=shop,
            shopper=shopper,
            public_id=secrets.token_hex(6),
            recipient="买家",
            phone=phone,
            province="浙江省",
            city="杭州市",
            district="西湖区",
            detail="1号",
        )
        _, key = token_issue(shop=shop, shopper=shopper)
        buyers.append({"token": key, "address": address.public_id, "shopper": shopper.pk})
    return shop, sku, buyers


def queries_per_order(sku, buyer) -> int:
    """Count the SQL of one real API checkout, in this process, with a warm shop cache."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    body = json.dumps({"items": [{"sku": sku.pk, "quantity": 1}], "address_id": buyer["address"]})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {buyer['token']}"}
    counts = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            resp = client.post(
                "/api/v1/storefront/orders",
                body,
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=secrets.token_hex(8),
                **auth,
            )
        assert resp.status_code in (200, 201), resp.content
        counts.append(len(ctx.captured_queries))
    return counts[-1]


def wait_port(port: int, server: subprocess.Popen, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            # Its stderr went to the caller's log, which the caller prints.
            raise RuntimeError(f"web server exited with {server.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError("web server did not start")


def run_clients(n_clients: int, attempts: int, one_attempt) -> tuple[float, list[float], int]:
    """n threads share `attempts`; returns (wall seconds, latencies of successes, successes)."""
    lock = threading.Lock()
    state = {"left": attempts, "ok": 0}
    latencies: list[float] = []
    errors: list[BaseException] = []
    start_gate = threading.Barrier(n_clients + 1)

    def worker(idx):
        try:
            session = one_attempt(idx)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which re-raises it
            errors.append(exc)
            start_gate.wait()
            return
        start_gate.wait()
        while True:
            with lock:
                if state["left"] <= 0 or errors:
                    break
                state["left"] -= 1
            t0 = time.perf_counter()
            try:
                ok = session()
            except BaseException as exc:  # noqa: BLE001 - as above
                errors.append(exc)
                break
            elapsed = time.perf_counter() - t0
            if ok:
                with lock:
                    state["ok"] += 1
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    if errors:  # a failing client must fail the bench, not shrink its figures to a division by zero
        raise errors[0]
    return time.perf_counter() - t0, latencies, state["ok"]


def http_session(sku_id: int, buyers: list[dict]):
    def factory(idx):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        buyer = buyers[idx % len(buyers)]
        headers = {"Authorization": f"Bearer {buyer['token']}", "Content-Type": "application/json"}
        body = json.dumps({"items": [{"sku": sku_id, "quantity": 1}], "address_id": buyer["address"]})

        def attempt() -> bool:
            conn.request(
                "POST", "/api/v1/storefront/orders", body, {**headers, "Idempotency-Key": secrets.token_hex(8)}
            )
            resp = conn.getresponse()
            resp.read()
            if resp.status >= 500:
                raise RuntimeError(f"server error {resp.status}")
            return resp.status in (200, 201)

        return attempt

    return factory


def warm_up(sku_id: int, buyers: list[dict], per_client: int = 5, extra: dict | None = None) -> None:
    """Price the basket a few times from every client before timing: each web worker opens its
    database connection, compiles its prepared reads and fills its caches, as a long-running server
    has (the first requests of a cold worker otherwise land in the figures as multi-second p99s)."""

    def client(idx):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        buyer = buyers[idx % len(buyers)]
        headers = {"Authorization": f"Bearer {buyer['token']}", "Content-Type": "application/json"}
        body = json.dumps({"items": [{"sku": sku_id, "quantity": 1}], "address_id": buyer["address"], **(extra or {})})
        for _ in range(per_client):
            conn.request("POST", "/api/v1/storefront/checkout/quote", body, headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"warm-up quote answered {resp.status}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def raw_session(inserts, sku_id: int, buyers: list[dict]):
    import psycopg

    order, line = inserts

    def factory(idx):
        conn = psycopg.connect(DB_URL)
        shopper = buyers[idx % len(buyers)]["shopper"]

        def attempt() -> bool:
            with conn.transaction():
                row = conn.execute(
                    "UPDATE catalog_sku SET stock = stock - 1 WHERE id = %s AND stock >= 1 RETURNING id", (sku_id,)
                ).fetchone()
                if row is None:
                    return False
                own = (secrets.token_hex(8), secrets.token_hex(10), shopper, secrets.token_hex(8))
                order_id = conn.execute(order.sql + " RETURNING id", order.params(own)).fetchone()[0]
                conn.execute(line.sql, line.params((order_id,)))
            return True

        return attempt

    return factory


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else (values[0] if values else 0.0)


def report_rate(run: tuple[float, list[float], int]) -> float:
    wall, _, ok = run
    return ok / wall if wall else 0.0


def report(name: str, wall: float, latencies: list[float], ok: int) -> float:
    rate = report_rate((wall, latencies, ok))
    print(
        f"{name:>8}: {ok} orders in {wall:.2f}s = {rate:.0f} orders/s, "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms"
    )
    return rate


class Setup(NamedTuple):
    """One way to serve the app: `siyu serve` options and environment."""

    name: str
    server: str = ""  # "": siyu serve's default (the production choice)
    threads: int = 1
    env: dict[str, str] = {}


# Compared in one run, at the same load; the API run and the minimal view use the default.
SETUPS = {
    s.name: s
    for s in (
        Setup("gunicorn-sync", "gunicorn"),
        Setup("gunicorn-gthread4", "gunicorn", threads=4),
        Setup("granian", "granian"),
        Setup("gunicorn-sync-no-freeze", "gunicorn", env={"SIYU_GC_FREEZE": "0"}),
        Setup("gunicorn-sync-conn-per-request", "gunicorn", env={"DB_CONN_MAX_AGE": "0"}),
    )
}
DEFAULT = Setup("default")
COMPARE = [n for n in os.environ.get("BENCH_SERVERS", ",".join(SETUPS)).split(",") if n]


def start_server(log, setup: Setup = DEFAULT, env: dict[str, str] | None = None) -> subprocess.Popen:
    argv = [sys.executable, "-m", "siyu.cli.main", "serve", "--port", str(PORT), "--workers", str(WORKERS)]
    argv += ["--threads", str(setup.threads), "--no-access-log"]
    if setup.server:
        argv += ["--server", setup.server]
    env = {**ENV, **setup.env, **(env or {})}
    # Its own process group, so stopping it reaches the server's workers too.
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def run_rush(sku_id: int, buyers: list[dict]) -> tuple[list[float], int]:
    """RUSH_BUYERS buyers at once, one attempt each, for RUSH_STOCK units: every answer's latency
    (bought or refused), and how many bought."""
    gate = threading.Barrier(RUSH_BUYERS)
    latencies: list[float] = []
    bought: list[int] = []
    errors: list[BaseException] = []
    factory = http_session(sku_id, buyers)

    def buyer(idx):
        try:
            attempt = factory(idx)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
            errors.append(exc)
            attempt = None
        gate.wait()
        if attempt is None:
            return
        t0 = time.perf_counter()
        try:
            ok = attempt()
        except BaseException as exc:  # noqa: BLE001 - as above
            errors.append(exc)
            return
        latencies.append(time.perf_counter() - t0)
        if ok:
            bought.append(idx)

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(RUSH_BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return latencies, len(bought)


class Round(NamedTuple):
    api: tuple[float, list[float], int]
    raw: tuple[float, list[float], int]
    oversold: int  # the API's, this round
    raw_oversold: int


def run_rounds(sku, buyers, inserts) -> tuple[list[Round], tuple[list[float], int]]:
    """Our path and the baseline, alternated ROUNDS times while one server stays up (so each pair
    shares whatever the machine is doing then), then a rush on the same server; the server is
    stopped whatever happens."""
    import tempfile

    from siyu.catalog.models import Sku
    from siyu.orders.models import Order

    with tempfile.TemporaryFile("w+") as log:
        server = start_server(log)
        try:
            wait_port(PORT, server)
            warm_up(sku.pk, buyers)
            rounds = []
            for _ in range(ROUNDS):
                reset(sku)
                raw = run_clients(CLIENTS, ATTEMPTS, raw_session(inserts, sku.pk, buyers))
                raw_oversold = max(0, Order.objects.count() - STOCK)
                reset(sku)
                # The workers' own sold-out marks (without REDIS_URL) from the last round expire first.
                time.sleep(max(0.0, SOLD_OUT_EXPIRY - raw[0]))
                api = run_clients(CLIENTS, ATTEMPTS, http_session(sku.pk, buyers))
                stock_left = Sku.objects.get(pk=sku.pk).stock
                oversold = max(0, Order.objects.count() - STOCK) + max(0, -stock_left)
                rounds.append(Round(api, raw, oversold, raw_oversold))
            reset(sku, stock=RUSH_STOCK)
            time.sleep(SOLD_OUT_EXPIRY)
            return rounds, run_rush(sku.pk, buyers)
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
        finally:
            stop_group(server)


SOLD_OUT_EXPIRY = 6  # seconds: siyu.core.soldout.LOCAL_TTL and a margin


def serve_and_run(setup: Setup, session_factory, env: dict[str, str] | None = None, warm=None):
    """Start a server, warm it (`warm()`, if given), run the steady clients against it, stop it
    whatever happens."""
    import tempfile

    with tempfile.TemporaryFile("w+") as log:
        server = start_server(log, setup, env)
        try:
            wait_port(PORT, server)
            if warm is not None:
                warm()
            return run_clients(CLIENTS, ATTEMPTS, session_factory)
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
        finally:
            stop_group(server)


def compare_servers(sku, buyers) -> None:
    """The API checkout under each setup in COMPARE, one after the other on a fresh stock."""
    for name in COMPARE:
        reset(sku)
        warm = functools.partial(warm_up, sku.pk, buyers)
        report(f"server {name}", *serve_and_run(SETUPS[name], http_session(sku.pk, buyers), warm=warm))


def minimal_session(sku_id: int, buyers: list[dict]):
    def factory(idx):
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        body = json.dumps({"sku": sku_id, "shopper": buyers[idx % len(buyers)]["shopper"]})

        def attempt() -> bool:
            conn.request("POST", "/bench/minimal-checkout", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status >= 500:
                raise RuntimeError(f"server error {resp.status}")
            return resp.status == 201

        return attempt

    return factory


def run_minimal(sku, buyers) -> float:
    """The same three statements through a minimal view on the production server setup."""
    reset(sku)
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.minimal_settings",
        "BENCH_SHOP_ID": str(sku.shop_id),
        "BENCH_PRODUCT_ID": str(sku.product_id),
    }
    return report("minimal", *serve_and_run(DEFAULT, minimal_session(sku.pk, buyers), env))


PHASES = (  # (label, function, called from): cumulative CPU of that call; the rest is the framework's
    ("token sign-in", "token_authenticate", ""),
    ("address, SKU read, prices", "_checkout_ready", ""),
    ("order INSERT", "insert_new", "order_submit"),
    ("lines, timeline, outbox, stock", "_order_write_rest", ""),
    ("response JSON", "_result_to_response", ""),
)


def _phase_seconds(stats: dict, func: str, caller: str) -> float:
    seconds = 0.0
    for (_, _, name), (_, _, _, cumulative, callers) in stats.items():
        if name != func:
            continue
        if not caller:
            seconds += cumulative
        else:
            seconds += sum(row[3] for (_, _, who), row in callers.items() if who == caller)
    return seconds


def checkout_profile(sku, buyer, n: int) -> str:
    """CPU per API checkout in this process (the view's work and the test client's), then where it
    goes: a cProfile run split into the phases above, scaled to the unprofiled figure."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    body = json.dumps({"items": [{"sku": sku.pk, "quantity": 1}], "address_id": buyer["address"]})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {buyer['token']}"}

    def checkout():
        headers["HTTP_IDEMPOTENCY_KEY"] = secrets.token_hex(8)
        resp = client.post("/api/v1/storefront/orders", body, content_type="application/json", **headers)
        assert resp.status_code == 201, resp.content

    started = time.process_time()
    for _ in range(n):
        checkout()
    cpu_ms = (time.process_time() - started) * 1000 / n
    profile = cProfile.Profile()
    profile.runcall(lambda: [checkout() for _ in range(n)])
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max(row[3] for row in stats.values())  # the outermost call: everything
    spent = {label: _phase_seconds(stats, func, caller) for label, func, caller in PHASES}
    parts = [f"{label} {cpu_ms * seconds / total:.2f}" for label, seconds in spent.items()]
    parts.append(f"framework and the rest {cpu_ms * (1 - sum(spent.values()) / total):.2f}")
    return f"checkout_cpu_ms={cpu_ms:.2f} ({n} in-process API checkouts; ms each: " + "; ".join(parts) + ")"


def reset(sku, stock: int = STOCK) -> None:
    """No orders, `stock` units. A restock through the back door: a server's sold-out mark must go
    too. With REDIS_URL it is shared and cleared here; without, it lives in each worker and
    expires on its own (SOLD_OUT_EXPIRY)."""
    from django.db import connection

    from siyu.catalog.models import Sku
    from siyu.core.soldout import soldout_clear
    from siyu.orders.models import Order

    Order.objects.all().delete()
    Sku.objects.filter(pk=sku.pk).update(stock=stock)
    soldout_clear(sku_ids=[sku.pk])
    connection.close()


def measure() -> str:
    """All runs on a fresh database; returns the summary line."""
    django_setup()
    from siyu.catalog.models import Sku

    shop, sku, buyers = make_fixture(CLIENTS)
    from bench.minimal_view import raw_inserts

    inserts = raw_inserts(shop.pk, sku.pk, sku.product_id)  # before timing: a drifted schema stops us here
    qpo = queries_per_order(sku, buyers[0])
    print(checkout_profile(sku, buyers[0], n=max(5, min(300, STOCK // 4))))
    rounds, (rush, rush_sold) = run_rounds(sku, buyers, inserts)
    rush_left = Sku.objects.get(pk=sku.pk).stock
    ratios = []
    for number, done in enumerate(rounds, 1):
        raw_rate = report(f"raw db {number}", *done.raw)
        ours_rate = report(f"api {number}", *done.api)
        if not (done.api[2] and raw_rate):
            raise SystemExit("no order went through: nothing to compare")
        ratios.append(ours_rate / raw_rate)
    print(f"api / raw db per round: {' '.join(f'{r:.2f}' for r in ratios)} (the summary takes the median)")
    oversold = sum(r.oversold for r in rounds) + max(0, rush_sold - RUSH_STOCK) + max(0, -rush_left)
    print(
        f"rush: {RUSH_BUYERS} buyers at once for {RUSH_STOCK} units, {rush_sold} bought; "
        f"rush_p50_ms={percentile(rush, 50) * 1000:.0f} rush_p99_ms={percentile(rush, 99) * 1000:.0f}"
    )

    compare_servers(sku, buyers)
    minimal_rate = run_minimal(sku, buyers)
    raw_rate = statistics.median(report_rate(r.raw) for r in rounds)
    print(f"minimal_view_rps={minimal_rate:.0f} minimal_view_vs_raw_db={minimal_rate / raw_rate:.2f}")
    print(
        f"sold {', '.join(str(r.api[2]) for r in rounds)} of {STOCK} (each round; rush stock left {rush_left}); "
        f"raw oversold {sum(r.raw_oversold for r in rounds)}; SQL queries per API order: {qpo}"
    )
    return f"checkout_vs_raw_db={statistics.median(ratios):.2f} oversold={oversold} queries_per_order={qpo}"


def main():
    # A SIGTERM (a test's timeout, a CI cancel) unwinds like Ctrl-C, so the server and database go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"checkout bench: {CLIENTS} clients, stock {STOCK}, {ATTEMPTS} attempts, {WORKERS} web workers")
    try:
        recreate_database()
        summary = measure()
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()
    print(summary)


if __name__ == "__main__":
    main()
