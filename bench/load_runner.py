"""Load test: the shopper mix of bench/load.py (locust, headless) against the production web server.

Makes a PostgreSQL database of its own, fills it with generated categories, products and shoppers
(each with an API token, a signed-in session and an address), starts `siyu serve` (gunicorn) and one
`siyu worker` on loopback, runs locust for BENCH_SECONDS, then stops everything and drops the database.
Prints each request kind's figures, the orders placed and paid, the web workers' RSS before and after
the run, and ends with:
  mix_rps=<requests/s> p95_ms=<95th percentile, all requests> errors=<failed requests>

    make bench-load                                   # 60 s, 20 shoppers, 2 web workers × 4 threads
    BENCH_SECONDS=10 BENCH_USERS=4 make bench-load    # the smoke size of tests/bench
    BENCH_REDIS_URL=redis://127.0.0.1:6379/1 make bench-load   # cache, sessions and queue on Redis

The exit status is 1 when any request failed (the figures are still printed).
"""

import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.processes import stop_group  # noqa: E402 (needs ROOT on the path)

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench_load")
DB_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_USERS", "20"))
SPAWN_RATE = os.environ.get("BENCH_SPAWN_RATE", "10")
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
WEB_THREADS = int(os.environ.get("BENCH_WEB_THREADS", "4"))
PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "200"))
CATEGORIES = 10
SHOPPERS = int(os.environ.get("BENCH_SHOPPERS", str(max(USERS, 1))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(data_dir: str) -> dict:
    env = {
        **os.environ,
        "DATABASE_URL": DB_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SIYU_DATA_DIR": data_dir,
        "SIYU_SANDBOX_PAYMENTS": "true",
        "DB_CONN_MAX_AGE": "600",
        "SIYU_QUEUE_NAME": DB_NAME,
    }
    env.pop("REDIS_URL", None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    return env


# --- the database and its data -------------------------------------------------------------


def recreate_database(env: dict) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def drop_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def seed(fixture_path: str) -> None:
    """(In a child process with the bench's environment.) Categories, products on sale with ample
    stock, and shoppers signed in twice over: an API token and a session, as the mix needs both."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import SessionStore

    from siyu.accounts.models import Address, Shopper
    from siyu.accounts.services import token_issue
    from siyu.accounts.sessions import shopper_session_start
    from siyu.catalog.models import Category, Product, Sku
    from siyu.core.crypto import lookup_hash
    from siyu.shops.services import shop_create

    shop = shop_create(slug="load", name="压测小店", is_default=True)
    categories = [Category.objects.create(shop=shop, name=f"分类{i}", position=i) for i in range(CATEGORIES)]
    products, skus = [], []
    for i in range(PRODUCTS):
        price = 990 + (i * 137) % 20000
        product = Product.objects.create(
            shop=shop, category=categories[i % CATEGORIES], name=f"商品 {i}", status="on_sale",
            price_min=price, price_max=price, featured_position=i + 1 if i < 8 else None,
        )  # fmt: skip
        skus.append(Sku.objects.create(shop=shop, product=product, price=price, stock=10_000_000).pk)
        products.append(product.public_id)
    shoppers = []
    for i in range(SHOPPERS):
        phone = f"1370000{i:04d}"
        shopper = Shopper.objects.create(phone_hash=lookup_hash(phone), phone=phone)
        address = Address.objects.create(
            shop=shop, shopper=shopper, public_id=secrets.token_hex(6), recipient="买家", phone=phone,
            province="浙江省", city="杭州市", district="西湖区", detail="1号",
        )  # fmt: skip
        _, token = token_issue(shop=shop, shopper=shopper)
        session = SessionStore()
        shopper_session_start(session=session, shopper=shopper)
        session.save()
        shoppers.append({"token": token, "session": session.session_key, "address": address.public_id})
    fixture = {
        "categories": [c.pk for c in categories],
        "products": products,
        "skus": skus,
        "shoppers": shoppers,
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }
    Path(fixture_path).write_text(json.dumps(fixture), encoding="utf-8")


def orders_placed_and_paid() -> tuple[int, int]:
    import psycopg

    with psycopg.connect(DB_URL) as conn:
        row = conn.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'paid') FROM orders_order").fetchone()
    return row[0], row[1]


# --- processes ------------------------------------------------------------------------------


def start(argv: list[str], env: dict, log) -> subprocess.Popen:
    # A process group of its own, so stopping it reaches gunicorn's workers too.
    return subprocess.Popen(
        [sys.executable, "-m", "siyu.cli.main", *argv], cwd=ROOT, env=env, stdout=log, stderr=log,
        start_new_session=True,
    )  # fmt: skip


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the web server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")  # also warms the worker that answers: templates, shop cache
            ok = conn.getresponse().status == 200
            conn.close()
            if ok:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the web server did not answer in time")


def web_worker_rss_mb(server: subprocess.Popen) -> list[int]:
    """RSS of each gunicorn worker (the children of the master, which `siyu serve` exec'd into)."""
    import psutil

    return sorted(round(child.memory_info().rss / 2**20) for child in psutil.Process(server.pid).children())


def warm_up(port: int, fixture: dict) -> None:
    """Every page kind once per web worker (more or less), so 'before' is a warm worker, not a cold one."""
    import http.client

    paths = ["/", f"/c/{fixture['categories'][0]}/", f"/p/{fixture['products'][0]}/"] * (WEB_WORKERS * 4)
    for path in paths:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path)
        conn.getresponse().read()
        conn.close()


def run_locust(port: int, fixture_path: str, out_dir: str, server: subprocess.Popen) -> tuple[dict, list[int]]:
    """Locust headless in its own process (it patches the standard library with gevent); returns the
    rows of its stats CSV by name, and the web workers' total RSS sampled every 10 s meanwhile (a
    leak climbs steadily; warming up levels off)."""
    argv = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load.py"), "--headless"]
    argv += ["-u", str(USERS), "-r", SPAWN_RATE, "-t", f"{SECONDS}s", "--host", f"http://127.0.0.1:{port}"]
    argv += ["--csv", str(Path(out_dir) / "load"), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"]
    env = {**os.environ, "BENCH_LOAD_FIXTURE": fixture_path}
    samples: list[int] = []
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            while proc.poll() is None:
                samples.append(sum(web_worker_rss_mb(server)))
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    continue
        finally:
            if proc.poll() is None:
                proc.kill()
        out.seek(0)
        output = out.read()
    stats_file = Path(out_dir) / "load_stats.csv"
    if not stats_file.exists():
        sys.stderr.write(output[-8000:])
        raise SystemExit("locust wrote no statistics")
    with stats_file.open(encoding="utf-8") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    failures = Path(out_dir) / "load_failures.csv"
    if failures.exists() and failures.read_text().count("\n") > 1:
        sys.stderr.write("failures:\n" + failures.read_text()[-4000:])
    return rows, samples


def report(rows: dict[str, dict]) -> dict:
    print(f"{'request':<20} {'count':>7} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for name, row in rows.items():
        print(
            f"{name:<20} {row['Request Count']:>7} {row['Failure Count']:>5} {float(row['Requests/s']):>7.1f} "
            f"{row['50%']:>7} {row['95%']:>7}"
        )
    total = rows["Aggregated"]
    return {"requests": int(total["Request Count"]), "rps": float(total["Requests/s"]), "p95": total["95%"],
            "errors": int(total["Failure Count"])}  # fmt: skip


def measure(env: dict, work: str) -> tuple[dict, list[int], list[int], list[int]]:
    fixture_path = str(Path(work) / "fixture.json")
    subprocess.run([sys.executable, __file__, "--seed", fixture_path], cwd=ROOT, env=env, check=True)
    fixture = json.loads(Path(fixture_path).read_text(encoding="utf-8"))
    port = int(os.environ.get("BENCH_PORT") or free_port())
    with open(Path(work) / "server.log", "w") as log:
        server = start(["serve", "--port", str(port), "--workers", str(WEB_WORKERS), "--threads",
                        str(WEB_THREADS), "--no-access-log"], env, log)  # fmt: skip
        worker = start(["worker"], env, log)
        try:
            wait_ready(port, server)
            warm_up(port, fixture)
            before = web_worker_rss_mb(server)
            rows, samples = run_locust(port, fixture_path, work, server)
            after = web_worker_rss_mb(server)
            time.sleep(2)  # the worker delivers the last sandbox notifications
        except BaseException:
            log.flush()
            sys.stderr.write(Path(log.name).read_text()[-4000:])
            raise
        finally:
            stop_group(server)
            stop_group(worker)
    return report(rows), before, after, samples


def main() -> None:
    # A SIGTERM (a test's timeout, a CI cancel) unwinds like Ctrl-C, so the servers and database go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"load bench: {USERS} shoppers for {SECONDS}s, {WEB_WORKERS} web workers × {WEB_THREADS} threads, "
          f"{PRODUCTS} products; mix browse 70 / cart 15 / checkout 10 / pay 5")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="siyu-bench-load-") as work:
        env = bench_env(os.environ.get("BENCH_DATA_DIR") or str(Path(work) / "data"))
        try:
            recreate_database(env)
            figures, before, after, samples = measure(env, work)
            placed, paid = orders_placed_and_paid()
        finally:
            drop_database()
    print(f"orders placed {placed}, paid {paid} (the sandbox notifications come back through the worker)")
    growth = sum(after) - sum(before)
    print(f"web workers' RSS MB in all, every 10 s: {' '.join(map(str, samples + [sum(after)]))}")
    print(
        f"web worker RSS MB before={'+'.join(map(str, before))} after={'+'.join(map(str, after))} "
        f"growth={growth} over {figures['requests']} requests"
    )
    print(f"mix_rps={figures['rps']:.1f} p95_ms={figures['p95']} errors={figures['errors']}")
    if figures["errors"]:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--seed":
        seed(sys.argv[2])
    else:
        main()
