"""Flash sale under a rush: N concurrent HTTP clients buy one flash-sale SKU through the real API.

PostgreSQL, the production web server (`siyu serve`'s default, as bench/checkout.py starts it), a
running session with one item (flash stock BENCH_FLASH_STOCK, limit 1 per customer), BENCH_BUYERS
buyers (more than the units), a share of them (BENCH_TWICE) trying a second time; every attempt is
a `POST /api/v1/storefront/orders` with `promotion: "flash_sale:<item>"`. In the same run, at the
same concurrency, the baseline does the same work straight through psycopg for the same attempts:
the per-customer limit (one upsert refusing to pass 1), the conditional flash-stock decrement, the
order and line inserts, in one transaction.

The rate compared is attempts answered per second (a refusal is an answer: most of a rush is
refusals), and orders/s is printed too. The two run alternately BENCH_ROUNDS times (default 3) while
the server stays up, so each pair shares whatever the machine is doing then; the summary takes the
median of the rounds' ratios. Ends with:
    flash_sale_vs_raw_db=<ratio> oversold=<n> over_limit=<n>

    make bench-flash-sale                     # defaults below
    BENCH_CLIENTS=32 BENCH_BUYERS=2000 BENCH_FLASH_STOCK=500 make bench-flash-sale

The database (BENCH_DATABASE_NAME, default siyu_bench_flash) is made and dropped here; tests/bench
runs this at a smoke size.
"""

import http.client
import json
import os
import random
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_DATABASE_NAME", "siyu_bench_flash")

from bench import checkout as base  # noqa: E402 (needs ROOT on the path; reads the BENCH_* settings)
from bench.processes import stop_group  # noqa: E402

CLIENTS = base.CLIENTS
FLASH_STOCK = int(os.environ.get("BENCH_FLASH_STOCK", "300"))
BUYERS = int(os.environ.get("BENCH_BUYERS", str(FLASH_STOCK * 2)))
TWICE = float(os.environ.get("BENCH_TWICE", "0.25"))  # share of buyers who try a second time


def make_fixture():
    """A shop, a SKU, a running session selling FLASH_STOCK of it at limit 1, and the buyers."""
    from django.utils import timezone

    from siyu.accounts.models import Address, Shopper
    from siyu.accounts.roles import OWNER
    from siyu.accounts.services import staff_create, token_issue
    from siyu.catalog.models import Product, Sku
    from siyu.core.crypto import lookup_hash
    from siyu.promotions.flashsales import services
    from siyu.shops.services import shop_create

    shop = shop_create(slug="bench", name="秒杀小店", is_default=True)
    owner = staff_create(actor=None, shop=shop, username="boss", password=secrets.token_hex(8), role=OWNER)
    product = Product.objects.create(shop=shop, name="秒杀款", status="on_sale", price_min=1990, price_max=1990)
    sku = Sku.objects.create(shop=shop, product=product, price=1990, stock=FLASH_STOCK + 100)
    now = timezone.now()
    session = services.flash_session_create(
        actor=owner, shop=shop, name="压测场", starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(hours=2)
    )
    item = services.flash_item_add(
        actor=owner, shop=shop, session_id=session.public_id, sku_id=sku.pk, flash_price=990, flash_stock=FLASH_STOCK
    )
    services.flash_session_schedule(actor=owner, shop=shop, session_id=session.public_id)
    shoppers = Shopper.objects.bulk_create(
        [Shopper(phone_hash=lookup_hash(f"1380{i:07d}"), phone=f"1380{i:07d}") for i in range(BUYERS)]
    )
    buyers = []
    for shopper in shoppers:
        address = Address.objects.create(
            shop=shop,
            shopper=shopper,
            public_id=secrets.token_hex(6),
            recipient="买家",
            phone=shopper.phone,
            province="浙江省",
            city="杭州市",
            district="西湖区",
            detail="1号",
        )
        _, key = token_issue(shop=shop, shopper=shopper)
        buyers.append({"token": key, "address": address.public_id, "shopper": shopper.pk})
    item.refresh_from_db()
    return shop, sku, item, buyers


def attempts_plan(n_buyers: int) -> list[int]:
    """Each buyer once, a share of them twice, in a shuffled order (the same plan for both runs)."""
    plan = list(range(n_buyers)) + list(range(int(n_buyers * TWICE)))
    random.Random(7).shuffle(plan)
    return plan


def run_attempts(plan: list[int], factory) -> tuple[float, list[float], int]:
    """CLIENTS threads take the planned attempts in turn: (wall seconds, latencies, successes)."""
    lock = threading.Lock()
    queue = list(reversed(plan))
    state = {"ok": 0}
    latencies: list[float] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(CLIENTS + 1)

    def worker():
        try:
            attempt = factory()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the main thread
            errors.append(exc)
            gate.wait()
            return
        gate.wait()
        while True:
            with lock:
                if not queue or errors:
                    return
                who = queue.pop()
            t0 = time.perf_counter()
            try:
                ok = attempt(who)
            except BaseException as exc:  # noqa: BLE001 - as above
                errors.append(exc)
                return
            with lock:
                latencies.append(time.perf_counter() - t0)
                state["ok"] += int(ok)

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0, latencies, state["ok"]


def http_factory(item, buyers):
    promotion = f"flash_sale:{item.public_id}"

    def factory():
        conn = http.client.HTTPConnection("127.0.0.1", base.PORT, timeout=60)

        def attempt(who: int) -> bool:
            buyer = buyers[who]
            body = json.dumps(
                {"items": [{"sku": item.sku_id, "quantity": 1}], "address_id": buyer["address"], "promotion": promotion}
            )
            headers = {
                "Authorization": f"Bearer {buyer['token']}",
                "Content-Type": "application/json",
                "Idempotency-Key": secrets.token_hex(8),
            }
            conn.request("POST", "/api/v1/storefront/orders", body, headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status >= 500 or resp.status not in (200, 201, 409):
                raise RuntimeError(f"unexpected answer {resp.status}")
            return resp.status in (200, 201)

        return attempt

    return factory


_LIMIT = (
    "INSERT INTO flashsales_flashpurchase (shop_id, item_id, shopper_id, quantity) VALUES (%s, %s, %s, 1) "
    "ON CONFLICT (item_id, shopper_id) DO UPDATE SET quantity = flashsales_flashpurchase.quantity + 1 "
    "WHERE flashsales_flashpurchase.quantity + 1 <= 1 RETURNING quantity"
)
_TAKE = "UPDATE flashsales_flashitem SET stock_left = stock_left - 1 WHERE id = %s AND stock_left >= 1 RETURNING id"


def raw_factory(inserts, item, buyers):
    import psycopg

    order, line = inserts

    def factory():
        conn = psycopg.connect(base.DB_URL)

        def attempt(who: int) -> bool:
            shopper = buyers[who]["shopper"]
            with conn.transaction() as tx:
                if conn.execute(_LIMIT, (item.shop_id, item.pk, shopper)).fetchone() is None:
                    raise psycopg.Rollback(tx)
                if conn.execute(_TAKE, (item.pk,)).fetchone() is None:
                    raise psycopg.Rollback(tx)
                own = (secrets.token_hex(8), secrets.token_hex(10), shopper, secrets.token_hex(8))
                order_id = conn.execute(order.sql + " RETURNING id", order.params(own)).fetchone()[0]
                conn.execute(line.sql, line.params((order_id,)))
                return True
            return False

        return attempt

    return factory


def reset(item) -> None:
    """No orders, FLASH_STOCK units. A restock through the back door: the sold-out mark goes too
    (shared with REDIS_URL; otherwise each worker's expires on its own, see run_rounds)."""
    from django.db import connection

    from siyu.orders.models import Order
    from siyu.promotions.flashsales.buying import flash_soldout_clear_on_commit
    from siyu.promotions.flashsales.models import FlashItem, FlashOrder, FlashPurchase

    FlashOrder.objects.all().delete()
    FlashPurchase.objects.all().delete()
    Order.objects.all().delete()
    FlashItem.objects.filter(pk=item.pk).update(stock_left=FLASH_STOCK)
    flash_soldout_clear_on_commit(ref=item.public_id)  # no transaction here: at once
    connection.close()


def tally(shop) -> tuple[int, int, int]:
    """(orders, oversold, over_limit) from the database after a run."""
    from django.db.models import Count

    from siyu.orders.models import Order
    from siyu.promotions.flashsales.models import FlashItem

    orders = Order.objects.filter(shop=shop)
    count = orders.count()
    left = FlashItem.objects.get(shop=shop).stock_left
    oversold = max(0, count - FLASH_STOCK) + max(0, -left) + max(0, count + left - FLASH_STOCK)
    per_shopper = orders.values("shopper_id").annotate(n=Count("id")).filter(n__gt=1)
    return count, oversold, per_shopper.count()


class Round(NamedTuple):
    api: tuple[float, list[float], int]
    raw: tuple[float, list[float], int]
    tally: tuple[int, int, int]  # the API's (orders, oversold, over limit), this round
    raw_tally: tuple[int, int, int]


def run_rounds(shop, item, buyers, plan, inserts) -> list[Round]:
    """The API and the baseline alternately, base.ROUNDS times, on one server (stopped whatever happens)."""
    with tempfile.TemporaryFile("w+") as log:
        server = base.start_server(log)
        try:
            base.wait_port(base.PORT, server)
            base.warm_up(item.sku_id, buyers, extra={"promotion": f"flash_sale:{item.public_id}"})
            rounds = []
            for number in range(base.ROUNDS):
                reset(item)
                raw = run_attempts(plan, raw_factory(inserts, item, buyers))
                raw_tally = tally(shop)
                reset(item)
                if number:  # the workers' own sold-out marks (without REDIS_URL) from the last round expire first
                    time.sleep(max(0.0, base.SOLD_OUT_EXPIRY - raw[0]))
                api = run_attempts(plan, http_factory(item, buyers))
                rounds.append(Round(api, raw, tally(shop), raw_tally))
            return rounds
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
        finally:
            stop_group(server)


def line(name: str, wall: float, latencies: list[float], ok: int, attempts: int) -> float:
    rate = attempts / wall if wall else 0.0
    print(
        f"{name:>8}: {attempts} attempts in {wall:.2f}s = {rate:.0f} answers/s, "
        f"{ok} orders = {ok / wall:.0f} orders/s, "
        f"p50 {base.percentile(latencies, 50) * 1000:.1f} ms, p99 {base.percentile(latencies, 99) * 1000:.1f} ms"
    )
    return rate


def measure() -> str:
    base.django_setup()
    from bench.minimal_view import raw_inserts

    shop, sku, item, buyers = make_fixture()
    inserts = raw_inserts(shop.pk, sku.pk, sku.product_id)
    plan = attempts_plan(len(buyers))
    rounds = run_rounds(shop, item, buyers, plan, inserts)
    ratios = []
    for number, done in enumerate(rounds, 1):
        raw_rate = line(f"raw {number}", *done.raw, len(plan))
        ours_rate = line(f"api {number}", *done.api, len(plan))
        if not (done.tally[0] and raw_rate):
            raise SystemExit("no order went through: nothing to compare")
        ratios.append(ours_rate / raw_rate)
    print(f"api / raw db per round: {' '.join(f'{r:.2f}' for r in ratios)} (the summary takes the median)")
    print(
        f"sold {', '.join(str(r.tally[0]) for r in rounds)} of {FLASH_STOCK} (each round) to {BUYERS} buyers "
        f"({len(plan) - BUYERS} second tries); raw sold {', '.join(str(r.raw_tally[0]) for r in rounds)}, "
        f"raw oversold {sum(r.raw_tally[1] for r in rounds)}, raw over limit {sum(r.raw_tally[2] for r in rounds)}"
    )
    oversold = sum(r.tally[1] for r in rounds)
    over_limit = sum(r.tally[2] for r in rounds)
    return f"flash_sale_vs_raw_db={statistics.median(ratios):.2f} oversold={oversold} over_limit={over_limit}"


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(
        f"flash-sale bench: {CLIENTS} clients, flash stock {FLASH_STOCK}, {BUYERS} buyers, {base.WORKERS} web workers"
    )
    try:
        base.recreate_database()
        summary = measure()
    finally:
        from django.db import connections

        connections.close_all()
        base.drop_database()
    print(summary)


if __name__ == "__main__":
    main()
