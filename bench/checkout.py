"""Checkout under a rush: N concurrent HTTP clients buy one limited SKU through the real API.

Runs on PostgreSQL with the production web server (gunicorn, several workers). In the same run a
baseline does the same conditional stock decrement plus order insert straight through psycopg at the
same concurrency. Prints orders/s, p50/p99 latency, oversold count and SQL queries per order, and ends
with:  checkout_vs_raw_db=<ratio> oversold=<n> queries_per_order=<n>

    make bench-checkout                      # defaults below
    BENCH_CLIENTS=32 BENCH_STOCK=1500 make bench-checkout
"""

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench")
DB_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "24"))
STOCK = int(os.environ.get("BENCH_STOCK", "1200"))
ATTEMPTS = int(STOCK * 1.25)  # more buyers than units: the surplus must all be refused
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))

ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "bench-" + secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SIYU_DATA_DIR": str(ROOT / "var" / "bench"),
    "SIYU_SANDBOX_PAYMENTS": "true",
    "DB_CONN_MAX_AGE": "600",
}


def recreate_database():
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)


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


def wait_port(port: int, timeout: float = 30):
    deadline = time.time() + timeout
    while time.time() < deadline:
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
    start_gate = threading.Barrier(n_clients + 1)

    def worker(idx):
        session = one_attempt(idx)
        start_gate.wait()
        while True:
            with lock:
                if state["left"] <= 0:
                    break
                state["left"] -= 1
            t0 = time.perf_counter()
            ok = session()
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


ORDER_SQL = """
INSERT INTO orders_order (shop_id, public_id, number, shopper_id, status, idempotency_key, subtotal, shipping_fee,
    discount, total, paid_amount, refunded_amount, recipient, phone, province, city, district, address_detail, note,
    no_returns_confirmed, ref_code, created_at, pay_deadline, stock_released)
VALUES (%s, %s, %s, %s, 'pending_payment', %s, 990, 0, 0, 990, 0, 0, '买家', 'x', '浙江省', '杭州市', '西湖区', 'x', '',
    false, '', now(), now() + interval '30 minutes', false)
RETURNING id"""
LINE_SQL = """
INSERT INTO orders_orderline (order_id, shop_id, sku_id, product_id, product_name, sku_label, image, unit_price,
    quantity, line_total, return_policy, shipped_quantity, refunded_quantity, refunded_amount)
VALUES (%s, %s, %s, %s, '秒杀款', '', '', 990, 1, 990, 'no_reason_7d', 0, 0, 0)"""


def raw_session(shop_id: int, sku_id: int, product_id: int, buyers: list[dict]):
    import psycopg

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
                order_id = conn.execute(
                    ORDER_SQL, (shop_id, secrets.token_hex(8), secrets.token_hex(10), shopper, secrets.token_hex(8))
                ).fetchone()[0]
                conn.execute(LINE_SQL, (order_id, shop_id, sku_id, product_id))
            return True

        return attempt

    return factory


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else (values[0] if values else 0.0)


def report(name: str, wall: float, latencies: list[float], ok: int) -> float:
    rate = ok / wall if wall else 0.0
    print(
        f"{name:>8}: {ok} orders in {wall:.2f}s = {rate:.0f} orders/s, "
        f"p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms"
    )
    return rate


def main():
    print(f"checkout bench: {CLIENTS} clients, stock {STOCK}, {ATTEMPTS} attempts, {WORKERS} web workers")
    recreate_database()
    django_setup()
    from django.db import connection

    from siyu.catalog.models import Sku
    from siyu.orders.models import Order

    shop, sku, buyers = make_fixture(CLIENTS)
    qpo = queries_per_order(sku, buyers[0])
    Order.objects.all().delete()
    Sku.objects.filter(pk=sku.pk).update(stock=STOCK)
    connection.close()

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siyu.cli.main",
            "serve",
            "--port",
            str(PORT),
            "--workers",
            str(WORKERS),
            "--threads",
            "1",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_port(PORT)
        ours = run_clients(CLIENTS, ATTEMPTS, http_session(sku.pk, buyers))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    sold = Order.objects.filter(shop=shop).count()
    stock_left = Sku.objects.get(pk=sku.pk).stock
    oversold = max(0, sold - STOCK) + max(0, -stock_left)
    ours_rate = report("api", *ours)

    Order.objects.all().delete()
    Sku.objects.filter(pk=sku.pk).update(stock=STOCK)
    connection.close()
    raw = run_clients(CLIENTS, ATTEMPTS, raw_session(shop.pk, sku.pk, sku.product_id, buyers))
    raw_rate = report("raw db", *raw)
    raw_oversold = max(0, Order.objects.count() - STOCK)

    print(
        f"sold {sold} of {STOCK} (stock left {stock_left}); raw oversold {raw_oversold}; "
        f"SQL queries per API order: {qpo}"
    )
    print(f"checkout_vs_raw_db={ours_rate / raw_rate:.2f} oversold={oversold} queries_per_order={qpo}")


if __name__ == "__main__":
    main()
