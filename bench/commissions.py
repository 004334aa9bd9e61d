"""Accruing and settling commission for a backlog of referred orders: ours against a bare bulk insert.

On PostgreSQL (database siyu_bench_commissions, made and dropped here) it generates one shop,
BENCH_PROMOTERS approved promoters (each a shopper with a share code), as many buyers, 200 products
with product and category rules, and BENCH_LINES order lines (4 a line per order) on orders that
were paid through a promoter's link, received six to seven weeks ago (past the longest refund
window, 30 days of quality claims, and the 7-day freeze, so every commission settles) and
completed. The data is generated with bulk INSERT … SELECT statements straight into the tables,
not through checkout: the bench measures commission, not order placement.
  ours      distribution.commissions_bulk.commissions_accrue_bulk over every order (rates, commission
            rows, frozen ledger postings), then commissions_settle_bulk (frozen → available).
  baseline  the same commission, account and ledger rows, read back after our run (not timed),
            written again into the emptied tables by the bare driver (psycopg executemany, one
            transaction).
Prints both and ends with one line:  commission_vs_bulk_insert=<ours rows/s ÷ bulk rows/s>
(rows = commission rows + ledger account rows + ledger entries written, the same for both).

    make bench-commissions                                             # 200,000 lines, 10,000 promoters
    BENCH_LINES=1000000 BENCH_PROMOTERS=50000 make bench-commissions   # the issue's full size

Columns come from the live models (bench/live_schema.py): the generated rows get every column the
bench does not name from its model default, and the baseline copies back all columns, so a
migration cannot silently break either. tests/bench runs this at a smoke size in `make test`.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench_commissions")
DB_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
FULL_LINES = 1_000_000
# The 1,000,000 lines / 50,000 promoters take about 8 minutes on a 2-core machine; the
# default keeps its 20 lines per promoter at a fifth of the size (the figure is a rate).
LINES = int(os.environ.get("BENCH_LINES", "200000"))
PROMOTERS = int(os.environ.get("BENCH_PROMOTERS", "10000"))
TIERS = int(os.environ.get("BENCH_TIERS", "1"))
PER_ORDER = 4
ORDERS = max(1, LINES // PER_ORDER)
PRODUCTS = 200

ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "bench-" + secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SIYU_DATA_DIR": os.environ.get("BENCH_DATA_DIR") or str(ROOT / "var" / "bench"),
    "SIYU_SANDBOX_PAYMENTS": "true",
}


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=ENV, check=True)


def drop_database() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def django_setup() -> None:
    os.environ.update(ENV)
    import django

    django.setup()


# --- generated data ---------------------------------------------------------------------------


def price_sql(idx: str) -> str:
    """The price of product number idx (0-based), as generate() gives it."""
    return f"(990 + (({idx}) * 137) %% 20000)"


# Bulk INSERT … SELECT statements, one per table: the columns the bench fills and their SQL
# (pyformat: %% is a percent sign); every other column gets its model default (bench/live_schema.py).
SHOPPER_COLUMNS = {
    "phone_hash": "md5('bench-' || i)", "phone": "%(enc)s", "share_code": "'S' || lpad(i::text, 10, '0')",
}  # fmt: skip
SHOPPERS_FROM = "FROM generate_series(1, %(n)s) i ORDER BY i"
PROMOTER_COLUMNS = {
    "shop_id": "%(shop)s", "shopper_id": "s.id", "status": "'approved'", "real_name": "%(enc)s",
    "id_number": "%(enc)s", "id_number_hash": "md5('id-' || s.id)", "payout_kind": "'alipay'",
    "payout_account": "%(enc)s", "applied_at": "now()", "decided_at": "now()",
}  # fmt: skip
PROMOTERS_FROM = "FROM accounts_shopper s WHERE s.share_code <= 'S' || lpad(%(n)s::text, 10, '0') ORDER BY s.id"
PARENTS_SQL = """
UPDATE distribution_promoter p SET parent_id = q.id
FROM distribution_promoter q WHERE q.id = %(first)s + (p.id - %(first)s) / 10 AND q.id <> p.id
"""
ORDER_COLUMNS = {
    "shop_id": "%(shop)s", "public_id": "'B' || o", "number": "'N' || lpad(o::text, 12, '0')",
    "shopper_id": "%(first_buyer)s + o %% %(buyers)s", "status": "'completed'", "idempotency_key": "'k' || o",
    "subtotal": "x.subtotal", "discount": "x.discount", "total": "x.subtotal - x.discount",
    "paid_amount": "x.subtotal - x.discount", "recipient": "'买家'", "phone": "%(enc)s", "province": "'浙江省'",
    "city": "'杭州市'", "district": "'西湖区'", "address_detail": "%(enc)s",
    "ref_code": "'S' || lpad((1 + o %% %(promoters)s)::text, 10, '0')", "created_at": "x.at",
    "pay_deadline": "x.at + interval '30 minutes'", "paid_at": "x.at", "shipped_at": "x.at + interval '1 day'",
    "received_at": "x.at + interval '3 days'",
}  # fmt: skip
ORDERS_FROM = f"""FROM generate_series(1, %(orders)s) o
CROSS JOIN LATERAL (
    SELECT SUM({price_sql(f"(o * {PER_ORDER} + k) %% {PRODUCTS}")} * (1 + (o + k) %% 3)) AS subtotal,
        CASE WHEN o %% 5 = 0 THEN 100 ELSE 0 END AS discount,
        now() - interval '50 days' + (o %% 7) * interval '1 day' AS at
    FROM generate_series(0, {PER_ORDER - 1}) k
) x
ORDER BY o"""
LINE_COLUMNS = {
    "order_id": "o.id", "shop_id": "o.shop_id", "sku_id": "%(first_sku)s + y.idx",
    "product_id": "%(first_product)s + y.idx", "product_name": "'商品'", "unit_price": "y.price",
    "quantity": "y.quantity", "line_total": "y.price * y.quantity", "return_policy": "'no_reason_7d'",
    "shipped_quantity": "y.quantity",
}  # fmt: skip
LINES_FROM = f"""FROM orders_order o
CROSS JOIN generate_series(0, {PER_ORDER - 1}) k
CROSS JOIN LATERAL (
    SELECT (n.o * {PER_ORDER} + k) %% {PRODUCTS} AS idx,
        {price_sql(f"(n.o * {PER_ORDER} + k) %% {PRODUCTS}")} AS price,
        1 + (n.o + k) %% 3 AS quantity
    FROM (SELECT substr(o.number, 2)::bigint AS o) n
) y
ORDER BY o.id, k"""


def bulk_generate(cursor, model, select: dict[str, str], rest: str, params: dict) -> None:
    from bench.live_schema import insert_select

    sql, defaults = insert_select(model, connection=cursor.db, select=select, rest=rest)
    cursor.execute(sql, {**params, **defaults})


def generate():
    """The shop and its backlog, in bulk; returns the shop."""
    from django.db import connection

    from siyu.accounts.models import Shopper
    from siyu.catalog.models import Category, Product, Sku
    from siyu.core.crypto import encrypt
    from siyu.distribution.models import CommissionRule, DistributionSettings, Promoter
    from siyu.orders.models import Order, OrderLine
    from siyu.shops.services import shop_create

    shop = shop_create(slug="bench", name="分销压测", is_default=True)
    DistributionSettings.objects.create(
        shop=shop, tiers=TIERS, default_rate_bp=1000, second_tier_rate_bp=300, freeze_days=7
    )
    tops = [Category.objects.create(shop=shop, name=f"大类{i}") for i in range(2)]
    subs = [Category.objects.create(shop=shop, name=f"小类{i}", parent=tops[i % 2]) for i in range(4)]
    products = Product.objects.bulk_create(
        Product(
            shop=shop,
            name=f"商品{i}",
            status="on_sale",
            category=subs[i % 4] if i % 2 else None,
            price_min=990 + (i * 137) % 20000,
            price_max=990 + (i * 137) % 20000,
        )
        for i in range(PRODUCTS)
    )
    skus = Sku.objects.bulk_create(Sku(shop=shop, product=p, price=p.price_min, stock=10**6) for p in products)
    assert [p.pk for p in products] == list(range(products[0].pk, products[0].pk + PRODUCTS))
    assert [s.pk for s in skus] == list(range(skus[0].pk, skus[0].pk + PRODUCTS))
    rules = [CommissionRule(shop=shop, product=products[i], tier=1, rate_bp=1500 + i) for i in range(0, 40, 4)]
    rules += [CommissionRule(shop=shop, category=tops[0], tier=1, rate_bp=800)]
    rules += [CommissionRule(shop=shop, category=subs[1], tier=2, rate_bp=200)]
    CommissionRule.objects.bulk_create(rules)

    enc = encrypt("13800000000")
    with connection.cursor() as cursor:
        bulk_generate(cursor, Shopper, SHOPPER_COLUMNS, SHOPPERS_FROM, {"enc": enc, "n": PROMOTERS * 2})
        cursor.execute("SELECT min(id), max(id) FROM accounts_shopper")
        first, last = cursor.fetchone()
        assert last - first + 1 == PROMOTERS * 2
        bulk_generate(cursor, Promoter, PROMOTER_COLUMNS, PROMOTERS_FROM, {"shop": shop.pk, "enc": enc, "n": PROMOTERS})
        if TIERS == 2:
            cursor.execute("SELECT min(id) FROM distribution_promoter")
            cursor.execute(PARENTS_SQL, {"first": cursor.fetchone()[0]})
        args = {"shop": shop.pk, "enc": enc, "first_buyer": first + PROMOTERS, "buyers": PROMOTERS}
        bulk_generate(cursor, Order, ORDER_COLUMNS, ORDERS_FROM, {**args, "promoters": PROMOTERS, "orders": ORDERS})
        lines_args = {"first_sku": skus[0].pk, "first_product": products[0].pk}
        bulk_generate(cursor, OrderLine, LINE_COLUMNS, LINES_FROM, lines_args)
        cursor.execute("ANALYZE")
    return shop


# --- the two runs -----------------------------------------------------------------------------


def written_tables() -> dict[str, str]:
    """The tables our run writes and all their live columns (in foreign-key order): the baseline
    copies every row back verbatim, so a new column is copied too instead of breaking the insert."""
    from django.db import connection

    from bench.live_schema import all_columns
    from siyu.distribution.models import Commission, LedgerAccount, LedgerEntry

    return {m._meta.db_table: all_columns(m, connection=connection) for m in (LedgerAccount, Commission, LedgerEntry)}


def ours(shop) -> dict:
    from django.utils import timezone

    from siyu.distribution.commissions_bulk import commissions_accrue_bulk, commissions_settle_bulk
    from siyu.orders.models import Order

    order_ids = list(Order.objects.filter(shop=shop).values_list("pk", flat=True))
    t0 = time.perf_counter()
    made = commissions_accrue_bulk(shop=shop, order_ids=order_ids)
    t1 = time.perf_counter()
    settled = commissions_settle_bulk(shop=shop, now=timezone.now())
    t2 = time.perf_counter()
    again = commissions_accrue_bulk(shop=shop, order_ids=order_ids)
    t3 = time.perf_counter()
    return {"made": made, "settled": settled, "again": again, "accrue": t1 - t0, "settle": t2 - t1, "rerun": t3 - t2}


def read_rows(tables: dict[str, str]) -> dict[str, list[tuple]]:
    import psycopg

    with psycopg.connect(DB_URL) as conn:
        return {
            table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY id").fetchall() for table, cols in tables.items()
        }


def bulk_insert(tables: dict[str, str], rows: dict[str, list[tuple]]) -> float:
    """The baseline: the same rows, the bare driver, one transaction, executemany."""
    import psycopg
    from psycopg.types.json import Jsonb

    # psycopg reads a json column back as a dict or list but will not send one as a parameter.
    rows = {t: [tuple(Jsonb(v) if isinstance(v, dict | list) else v for v in r) for r in rs] for t, rs in rows.items()}
    with psycopg.connect(DB_URL, autocommit=True) as conn:
        conn.execute("TRUNCATE " + ", ".join(reversed(list(tables))) + " CASCADE")
        t0 = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            for table, cols in tables.items():
                marks = ", ".join(["%s"] * len(cols.split(",")))
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows[table])
        elapsed = time.perf_counter() - t0
        counts = [conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables]
    assert counts == [len(rows[table]) for table in tables], counts
    return elapsed


def checks(shop, run: dict) -> dict[str, bool]:
    from django.db.models import Count, Sum

    from siyu.distribution import ledger
    from siyu.distribution.models import Commission, LedgerEntry
    from siyu.orders.models import OrderLine

    lines = OrderLine.objects.filter(shop=shop).count()
    total = Commission.objects.aggregate(t=Sum("amount"))["t"] or 0
    by_kind = dict(LedgerEntry.objects.values_list("account__kind").annotate(t=Sum("amount")).order_by())
    unbalanced = LedgerEntry.objects.values("transaction").annotate(t=Sum("amount"), n=Count("id")).exclude(t=0, n=2)
    return {
        "one_per_line_tier": run["made"] == Commission.objects.count() >= lines,
        "all_settled": run["settled"] == run["made"] == Commission.objects.filter(status="settled").count(),
        "rerun_adds_nothing": run["again"] == 0,
        "transactions_balance": not unbalanced.exists(),
        "balances": by_kind.get(ledger.FROZEN) == 0
        and by_kind.get(ledger.AVAILABLE) == total == -by_kind.get(ledger.EXPENSE, 0),
    }


def main() -> None:
    # A SIGTERM (a test's timeout, a CI cancel) unwinds like Ctrl-C, so the database goes too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    size_note = (
        ""
        if LINES >= FULL_LINES
        else f" (below the issue's {FULL_LINES:,} lines / 50,000 promoters, which take ~8 min on 2 cores)"
    )
    print(
        f"commissions bench: {ORDERS * PER_ORDER:,} order lines{size_note}, {ORDERS:,} orders, "
        f"{PROMOTERS:,} promoters, {TIERS} tier(s), PostgreSQL"
    )
    t0 = time.perf_counter()
    try:
        recreate_database()
        django_setup()
        shop = generate()
        print(f"generated by bulk INSERT … SELECT (not through checkout) in {time.perf_counter() - t0:.1f}s")
        run = ours(shop)
        passed = checks(shop, run)
        tables = written_tables()
        rows = read_rows(tables)
        written = sum(len(r) for r in rows.values())
        bulk = bulk_insert(tables, rows)
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()
    took = run["accrue"] + run["settle"]
    print(
        f"ours:  accrue {run['made']:,} commissions in {run['accrue']:.1f}s, settle {run['settled']:,} in "
        f"{run['settle']:.1f}s: {written:,} rows in {took:.1f}s = {written / took:,.0f} rows/s"
    )
    print(f"       re-run of the accrual over every order: {run['again']} new in {run['rerun']:.1f}s")
    print(f"bulk:  the same {written:,} rows by psycopg executemany in {bulk:.1f}s = {written / bulk:,.0f} rows/s")
    print("       rows: " + ", ".join(f"{t.split('_', 1)[1]} {len(r):,}" for t, r in rows.items()))
    failed = [name for name, ok in passed.items() if not ok]
    print("checks: " + ("all passed" if not failed else "FAILED " + ", ".join(failed)))
    print(f"commission_vs_bulk_insert={(written / took) / (written / bulk):.2f}")
    if failed:
        raise SystemExit(1)  # the figures are printed, but a wrong ledger must not pass for a fast one


if __name__ == "__main__":
    main()
