"""Importing a marketplace's buyers, then finding a segment of them: ours against the bare database.

Generates BENCH_CUSTOMERS customers with BENCH_ORDERS orders as a Taobao order export (GBK CSV,
deterministic), then on PostgreSQL and on SQLite, each in its own process:
  import   ours: customers.importer.import_run over the file (decode, recognise, clean, de-duplicate,
           insert, recompute figures); baseline: the same customer and order rows, already cleaned,
           hashed and encrypted, put in with the bare driver (psycopg executemany / sqlite3 executemany).
  segment  ours: segments.segment_queryset(rules).count(); baseline: the hand-written SQL COUNT.
Prints rows/s and times for each database and ends with one line (PostgreSQL's figures, SQLite's if
it ran alone), the import's peak memory last:
  import_vs_bulk_insert=<ours rows/s ÷ bulk rows/s> segment_vs_raw_sql=<our time ÷ raw SQL time>
  import_peak_rss_mb=<peak RSS of the importing process, MB; the larger of the databases run>

The import runs in a process of its own that only imports (the file is streamed from disk), so its
peak RSS measures the import, not the generated data the bench compares it with:
    BENCH_CUSTOMERS=1000000 BENCH_ORDERS=1000000 BENCH_DATABASES=postgresql make bench-customers

    make bench-customers
    BENCH_CUSTOMERS=10000 BENCH_ORDERS=30000 make bench-customers
    BENCH_DATABASES=sqlite make bench-customers      # one database only (the summary is then SQLite's)

The baseline's INSERT columns come from the live Customer and ExternalOrder models
(bench/live_schema.py), so a migration cannot silently break it. tests/bench runs this at a smoke
size in `make test`, with BENCH_DATABASE_NAME naming its own PostgreSQL database.
"""

import csv
import io
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench_customers")
PG_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
ORDERS = max(CUSTOMERS, int(os.environ.get("BENCH_ORDERS", str(CUSTOMERS * 3))))
SEGMENT_RUNS = 7
KINDS = [k.strip() for k in os.environ.get("BENCH_DATABASES", "postgresql,sqlite").split(",") if k.strip()]
RULES = {
    "all": [
        {"field": "total_spent", "op": ">=", "value": 50000},
        {"field": "order_count", "op": ">=", "value": 2},
        {"field": "city", "op": "in", "value": ["杭州市", "上海市"]},
    ]
}
RAW_SEGMENT_SQL = (
    "SELECT COUNT(*) FROM customers_customer WHERE shop_id = {p} AND anonymized_at IS NULL "
    "AND total_spent >= 50000 AND order_count >= 2 AND city IN ({p}, {p})"
)
HEADER = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间"]
HEADER += ["收货人姓名", "收货地址", "联系手机", "宝贝标题"]
REGIONS = [
    ("浙江省", "杭州市", "西湖区"),
    ("上海市", "上海市", "浦东新区"),
    ("北京市", "北京市", "朝阳区"),
    ("广东省", "深圳市", "南山区"),
    ("广东省", "广州市", "天河区"),
    ("江苏省", "南京市", "鼓楼区"),
    ("江苏省", "苏州市", "姑苏区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"),
    ("福建省", "厦门市", "思明区"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
TITLES = ["玻尿酸补水面膜 10片", "山茶花精华油 30ml", "有机燕麦片 1kg", "云南小粒咖啡豆 500g", "手工红糖 400g"]
CN = ZoneInfo("Asia/Shanghai")


# --- the generated export -----------------------------------------------------------------


def generate() -> dict:
    """Customers and orders, deterministic; also the figures each customer must end with."""
    rnd = random.Random(20240601)
    customers = []
    for i in range(CUSTOMERS):
        region = REGIONS[rnd.randrange(len(REGIONS))]
        customers.append(
            {
                "phone": f"13{(i * 2654435761) % 10**9:09d}",
                "name": rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN),
                "region": region,
                "orders": [],
            }
        )
    owners = list(range(CUSTOMERS)) + [rnd.randrange(CUSTOMERS) for _ in range(ORDERS - CUSTOMERS)]
    start = datetime(2023, 1, 1, tzinfo=CN)
    orders = []
    for n, owner in enumerate(owners):
        placed = start + timedelta(seconds=rnd.randrange(2 * 365 * 86400))
        order = {"id": str(3_100_000_000_000_000_000 + n * 7919), "customer": owner, "at": placed}
        order["amount"] = rnd.randrange(990, 39900)
        order["title"] = rnd.choice(TITLES)
        orders.append(order)
        customers[owner]["orders"].append(order)
    orders.sort(key=lambda o: o["at"])  # an export lists orders by time, so a buyer's rows are spread out
    return {"customers": customers, "orders": orders}


def export_csv(data: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for order in data["orders"]:
        c = data["customers"][order["customer"]]
        province, city, district = c["region"]
        at = order["at"].strftime("%Y-%m-%d %H:%M:%S")
        address = f"{province} {city} {district} 幸福路{order['customer'] % 500 + 1}号"
        amount = f"{order['amount'] // 100}.{order['amount'] % 100:02d}"
        writer.writerow(
            [f"{order['id']}\t", "tb_" + c["phone"][-6:], amount, "交易成功", at, at, c["name"], address, c["phone"],
             order["title"]]
        )  # fmt: skip
    return out.getvalue().encode("gbk")


def expected_segment(data: dict) -> int:
    hits = 0
    for c in data["customers"]:
        spent = sum(o["amount"] for o in c["orders"])
        if spent >= 50000 and len(c["orders"]) >= 2 and c["region"][1] in ("杭州市", "上海市"):
            hits += 1
    return hits


# --- one database, in its own process -----------------------------------------------------


def child_env(kind: str, data_dir: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SIYU_DATA_DIR": data_dir,
        "SIYU_SANDBOX_PAYMENTS": "true",
    }
    env.pop("DATABASE_URL", None)
    if kind == "postgresql":
        env["DATABASE_URL"] = PG_URL
    return env


def prepare_database(kind: str, env: dict) -> None:
    if kind == "postgresql":
        import psycopg

        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def drop_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


CUSTOMER_COLUMNS = [
    "id", "shop_id", "public_id", "phone_hash", "phone", "name", "source", "province", "city", "order_count",
    "total_spent", "first_order_at", "last_order_at", "lifecycle", "created_at",
]  # fmt: skip
ORDER_COLUMNS = ["shop_id", "customer_id", "source", "external_id", "placed_at", "amount", "items"]


def baseline_rows(data: dict, shop_id: int) -> tuple[list[tuple], list[tuple]]:
    """The rows the import ends with, in CUSTOMER_COLUMNS / ORDER_COLUMNS order, as Python values."""
    from siyu.core.crypto import lookup_hash
    from siyu.core.ids import public_id

    now = datetime.now(tz=CN)
    customers, orders = [], []
    for pk, c in enumerate(data["customers"], start=1):
        spent = sum(o["amount"] for o in c["orders"])
        first, last = min(o["at"] for o in c["orders"]), max(o["at"] for o in c["orders"])
        customers.append(
            (pk, shop_id, public_id(12), lookup_hash(c["phone"]), c["phone"], c["name"], "taobao",
             c["region"][0], c["region"][1], len(c["orders"]), spent, first, last, "new", now)
        )  # fmt: skip
    for o in data["orders"]:
        orders.append((shop_id, o["customer"] + 1, "taobao", o["id"], o["at"], o["amount"], o["title"]))
    return customers, orders


def bulk_insert(kind: str, db_path: str, customers: list[tuple], orders: list[tuple]) -> float:
    """The baseline: the bare driver, one transaction, executemany.

    The statements and their parameters are made first and not timed: the columns come from the
    live models, and each value is adapted (phone encrypted, datetimes as the database keeps them)
    by Django's field for this database, as our import's rows are.
    """
    from django.db import connection

    from bench.live_schema import RawInsert
    from siyu.customers.models import Customer, ExternalOrder

    mark = "%s" if kind == "postgresql" else "?"
    c_insert = RawInsert(Customer, connection=connection, per_row=CUSTOMER_COLUMNS, mark=mark)
    o_insert = RawInsert(ExternalOrder, connection=connection, per_row=ORDER_COLUMNS, mark=mark)
    c_params = [c_insert.params(row) for row in customers]
    o_params = [o_insert.params(row) for row in orders]
    if kind == "postgresql":
        import psycopg

        conn = psycopg.connect(PG_URL, autocommit=True)  # BEGIN/COMMIT below, as for sqlite3
    else:
        import sqlite3

        conn = sqlite3.connect(db_path, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
    t0 = time.perf_counter()
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.executemany(c_insert.sql, c_params)
    cur.executemany(o_insert.sql, o_params)
    cur.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return elapsed


def empty_tables(kind: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if kind == "postgresql":
            cursor.execute(
                "TRUNCATE customers_customerevent, customers_externalorder, customers_customer RESTART IDENTITY CASCADE"
            )
        else:
            for table in ("customers_customerevent", "customers_externalorder", "customers_customer"):
                cursor.execute(f"DELETE FROM {table}")


def time_segment(kind: str, db_path: str, shop_id: int) -> dict:
    from django.db import connection

    from siyu.customers.segments import segment_queryset
    from siyu.shops.models import Shop

    shop = Shop.objects.get(pk=shop_id)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ours, raw, ours_count, raw_count = [], [], None, None
    if kind == "postgresql":
        import psycopg

        raw_conn = psycopg.connect(PG_URL, autocommit=True)
        raw_sql = RAW_SEGMENT_SQL.format(p="%s")
    else:
        import sqlite3

        raw_conn = sqlite3.connect(db_path)
        raw_sql = RAW_SEGMENT_SQL.format(p="?")
    for i in range(SEGMENT_RUNS + 1):  # the first round warms caches and is not counted
        t0 = time.perf_counter()
        ours_count = segment_queryset(shop=shop, rules=RULES).count()
        t1 = time.perf_counter()
        raw_count = raw_conn.execute(raw_sql, (shop_id, "杭州市", "上海市")).fetchone()[0]
        t2 = time.perf_counter()
        if i:
            ours.append(t1 - t0)
            raw.append(t2 - t1)
    raw_conn.close()
    return {"ours": statistics.median(ours), "raw": statistics.median(raw), "count": ours_count, "raw_count": raw_count}


def child(kind: str, csv_path: str, data_dir: str) -> None:
    env = child_env(kind, data_dir)
    prepare_database(kind, env)
    # Replace, not update: a DATABASE_URL inherited from the shell would put the SQLite run on PostgreSQL.
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Sum

    from siyu.customers.models import Customer, ExternalOrder
    from siyu.shops.services import shop_create

    data = generate()
    shop = shop_create(slug="bench", name="导入压测", is_default=True)
    db_path = str(Path(data_dir) / "siyu.sqlite3")

    customers, orders = baseline_rows(data, shop.pk)
    bulk = bulk_insert(kind, db_path, customers, orders)
    bulk_ok = Customer.objects.count() == CUSTOMERS and ExternalOrder.objects.count() == ORDERS
    empty_tables(kind)

    connection.close()  # the import runs in a process of its own (below), so its peak RSS is its own
    imported = import_in_own_process(csv_path, shop.pk)
    ours = imported["seconds"]
    spent = Customer.objects.filter(shop=shop).aggregate(s=Sum("total_spent"))["s"]
    checks = {
        "database_ok": connection.vendor == kind,
        "bulk_rows_ok": bulk_ok,
        "imported_ok": imported["imported"] == CUSTOMERS
        and imported["orders_added"] == ORDERS
        and imported["rejected"] == 0,
        "spent_ok": spent == sum(o["amount"] for o in data["orders"]),
    }
    segment = time_segment(kind, db_path, shop.pk)
    checks["segment_ok"] = segment["count"] == segment["raw_count"] == expected_segment(data)
    result = {"kind": kind, "ours": ours, "bulk": bulk, "segment": segment, "checks": checks}
    result["peak_rss_mb"] = imported["peak_rss_mb"]
    print("RESULT " + json.dumps(result))


def import_in_own_process(csv_path: str, shop_id: int) -> dict:
    """Run the import alone in a fresh process (this one holds the generated data and the baseline's
    rows), so the peak RSS it reports is what importing the file costs."""
    proc = subprocess.run(
        [sys.executable, __file__, "--import", csv_path, str(shop_id)], cwd=ROOT, capture_output=True, text=True
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("IMPORTED ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit("the import failed")
    return json.loads(lines[-1][len("IMPORTED ") :])


def import_child(csv_path: str, shop_id: int) -> None:
    """The importing process: Django, then import_run over the file, nothing else."""
    import django

    django.setup()
    from siyu.customers.importer import import_run
    from siyu.shops.models import Shop

    shop = Shop.objects.get(pk=shop_id)
    t0 = time.perf_counter()
    job = import_run(shop=shop, actor=None, filename="taobao-orders.csv", path=Path(csv_path))
    seconds = time.perf_counter() - t0
    counts = {k: getattr(job, k) for k in ("imported", "orders_added", "rejected")}
    print("IMPORTED " + json.dumps({"seconds": seconds, "peak_rss_mb": peak_rss_mb(), **counts}))


def peak_rss_mb() -> int:
    """This process's peak RSS since it started. VmHWM, not getrusage's ru_maxrss: Linux carries
    ru_maxrss over from the parent we were forked from (here the bench child holding every
    generated row), so it would report the parent's size, not ours."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)  # kB
    import resource  # not Linux: the best there is

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


# --- the parent: both databases and the summary ---------------------------------------------


def run_child(kind: str, csv_path: str) -> dict:
    try:
        with tempfile.TemporaryDirectory(prefix=f"siyu-bench-{kind}-") as data_dir:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", kind, csv_path, data_dir],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
    finally:  # also when we are interrupted: the database is ours to remove
        if kind == "postgresql":
            drop_database()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"{kind} run failed")
    return json.loads(lines[-1][len("RESULT ") :])


def report(r: dict) -> None:
    seg = r["segment"]
    print(f"{r['kind']}:")
    ours, bulk = r["ours"], r["bulk"]
    print(f"  import  ours {ours:.2f}s = {ORDERS / ours:,.0f} rows/s; ", end="")
    print(f"bulk insert {bulk:.2f}s = {ORDERS / bulk:,.0f} rows/s")
    print(f"          ratio {bulk / ours:.2f}  (rows = order rows of the file; bulk also writes the customers)")
    ratio = seg["ours"] / seg["raw"]
    print(f"  segment ours {seg['ours'] * 1000:.2f} ms, raw SQL {seg['raw'] * 1000:.2f} ms ({seg['count']} customers)")
    print(f"          ratio {ratio:.2f}")
    print(f"  peak RSS of the importing process {r['peak_rss_mb']} MB")
    failed = [name for name, ok in r["checks"].items() if not ok]
    print("  checks: " + ("all passed" if not failed else "FAILED " + ", ".join(failed)))


def main() -> None:
    # A SIGTERM (a test's timeout, a CI cancel) unwinds like Ctrl-C, so the database goes too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    unknown = set(KINDS) - {"postgresql", "sqlite"}
    if unknown or not KINDS:
        raise SystemExit(f"BENCH_DATABASES lists postgresql and/or sqlite, not {', '.join(sorted(unknown))}")
    print(f"customers bench: {CUSTOMERS:,} customers, {ORDERS:,} orders (Taobao export, GBK CSV)")
    t0 = time.perf_counter()
    content = export_csv(generate())
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as f:
        f.write(content)
        csv_path = f.name
    print(f"generated {len(content) / 1e6:.1f} MB in {time.perf_counter() - t0:.1f}s")
    try:
        results = {kind: run_child(kind, csv_path) for kind in KINDS}
    finally:
        os.unlink(csv_path)
    for r in results.values():
        report(r)
    first = results[KINDS[0]]  # PostgreSQL's figures unless only SQLite was asked for
    print(
        f"import_vs_bulk_insert={first['bulk'] / first['ours']:.2f} "
        f"segment_vs_raw_sql={first['segment']['ours'] / first['segment']['raw']:.2f} "
        f"import_peak_rss_mb={max(r['peak_rss_mb'] for r in results.values())}"
    )
    if not all(ok for r in results.values() for ok in r["checks"].values()):
        raise SystemExit(1)  # the figures are printed, but a wrong import must not pass for a fast one


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) >= 4 and sys.argv[1] == "--import":
        import_child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
