"""How the dashboard queries grow with the shop: every analytics report timed at 10k, 100k and 1M orders.

On PostgreSQL, in a database of its own (made, migrated and dropped here), one shop is filled with
generate_series INSERTs at each size in turn (the tables are emptied between sizes):
  shoppers   orders ÷ 4, every one signed in once (agreement row); one in ten bound to a referrer;
  promoters  ten approved promoters;
  orders     spread over the last 730 days; 90% paid, 5% of those refunded in full; 20% carry a
             shopper's share code; one line each, a second line on 30%; 50 products in 5 categories.
The buyer summary the order events keep (siyu.analytics.buyers) is rebuilt after each fill, as
after any bulk load, and the time that takes is printed (it is not a dashboard read).
Each report (the same functions the pages call) runs BENCH_RUNS times; the median is kept. The
baseline is a plain full scan of the shop's orders (COUNT and SUM), which grows linearly by
construction. Prints a table (seconds per size, and growth from the smallest to the largest size)
and ends with
  dashboard_growth_10k_to_1m=<largest growth of any report ÷ the size ratio>
so ≤ 1 means no report grows worse than linearly. Sizes: BENCH_SIZES (default 10000,100000,1000000).

    make bench-analytics
    BENCH_SIZES=2000,20000 BENCH_RUNS=1 python bench/analytics.py     # the smoke size of the tests
"""

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench_analytics")
DB_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "10000,100000,1000000").split(",") if s.strip()]
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
PRODUCTS, CATEGORIES, PROMOTERS, DAYS = 50, 5, 10, 730

ENV = {
    **os.environ,
    "DATABASE_URL": DB_URL,
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "bench-analytics-not-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
    "SIYU_DATA_DIR": os.environ.get("BENCH_DATA_DIR") or str(ROOT / "var" / "bench"),
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


def _sql(expression: str) -> str:
    """`expression` with its modulo signs doubled, as the driver's %s placeholders require."""
    return expression.replace("%s", "\0").replace("%", "%%").replace("\0", "%s")


def insert_series(model, count: int, expressions: dict[str, str], params: list | None = None) -> None:
    """INSERT … SELECT over generate_series(1, count) AS g: `expressions` give SQL (in g) for the
    columns named; every other column gets the model's default, read from the live model."""
    from django.db import connection

    from bench.live_schema import _defaults

    fields = {f.attname: f for f in model._meta.concrete_fields}
    defaults = _defaults(model, expressions)
    columns = [fields[name].column for name in [*expressions, *defaults]]
    values = [*(_sql(e) for e in expressions.values()), *(["%s"] * len(defaults))]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1::bigint, {int(count)}) AS g"
    )
    default_params = [fields[name].get_db_prep_save(v, connection) for name, v in defaults.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(params or []), *default_params])


def fill(shop, orders: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from siyu.accounts.models import AgreementAcceptance, Shopper
    from siyu.analytics.buyers import buyer_summaries_rebuild
    from siyu.catalog.models import Category, Product, Sku
    from siyu.distribution.models import Promoter
    from siyu.orders.models import Order, OrderLine
    from siyu.referrals.models import ReferralBinding

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE analytics_buyersummary, orders_orderline, orders_order, referrals_referralbinding,"
            " accounts_agreementacceptance,"
            " distribution_promoter, catalog_sku, catalog_product, catalog_category, accounts_shopper CASCADE"
        )
    buyers = max(orders // 4, 10)
    now = timezone.now()
    start = now - timedelta(days=DAYS)
    shop_id = str(shop.pk)
    insert_series(Category, CATEGORIES, {"shop_id": shop_id, "name": "'c' || g", "position": "g"})
    insert_series(
        Product,
        PRODUCTS,
        {
            "shop_id": shop_id,
            "public_id": "'p' || g",
            "name": "'product ' || g",
            "category_id": f"(SELECT MIN(id) FROM catalog_category) + g % {CATEGORIES}",
            "status": "'on_sale'",
            "consumption_cycle_days": "30",
        },
    )
    insert_series(
        Sku,
        PRODUCTS,
        {
            "shop_id": shop_id,
            "product_id": "(SELECT MIN(id) FROM catalog_product) + g - 1",
            "price": "1000 + g * 100",
            "cost_price": "CASE WHEN g % 10 = 0 THEN NULL ELSE 400 + g * 40 END",
            "stock": "1000",
        },
    )
    insert_series(Shopper, buyers, {"phone_hash": "'h' || g", "phone": "''", "share_code": "'s' || g"})
    first_shopper = "(SELECT MIN(id) FROM accounts_shopper)"
    insert_series(
        AgreementAcceptance,
        buyers,
        {
            "shop_id": shop_id,
            "shopper_id": f"{first_shopper} + g - 1",
            "version": "'v1'",
            "accepted_at": f"%s::timestamptz + ((g * 7919) % {DAYS}) * interval '1 day'",
        },
        [start],
    )
    insert_series(
        Promoter,
        PROMOTERS,
        {
            "shop_id": shop_id,
            "shopper_id": f"{first_shopper} + g - 1",
            "status": "'approved'",
            "real_name": "''",
            "id_number": "''",
            "id_number_hash": "'x' || g",
            "payout_account": "''",
        },
    )
    insert_series(
        ReferralBinding,
        buyers // 10,
        {
            "shop_id": shop_id,
            "referee_id": f"{first_shopper} + g * 10 - 1",
            "referrer_shopper_id": f"{first_shopper} + (g * 37) % {buyers}",
            "code": f"'s' || (1 + (g * 37) % {buyers})",
            "bound_at": f"%s::timestamptz + ((g * 10 * 7919) % {DAYS}) * interval '1 day'",
            "expires_at": "%s::timestamptz",
        },
        [start, now],
    )
    # order g: buyer (g·7919 mod buyers), a day spread over the range, an hour from g.
    at = f"(%s::timestamptz + ((g * 104729) % {DAYS}) * interval '1 day' + (g % 24) * interval '1 hour')"
    amount = "(1000 + (g % 50) * 100)"
    insert_series(
        Order,
        orders,
        {
            "shop_id": shop_id,
            "public_id": "'o' || g",
            "number": "'n' || g",
            "shopper_id": f"{first_shopper} + (g * 7919) % {buyers}",
            "status": "CASE WHEN g % 10 = 0 THEN 'cancelled' WHEN g % 20 = 1 THEN 'closed' ELSE 'completed' END",
            "idempotency_key": "'k' || g",
            "subtotal": amount,
            "total": amount,
            "paid_amount": f"CASE WHEN g % 10 = 0 THEN 0 ELSE {amount} END",
            "refunded_amount": f"CASE WHEN g % 20 = 1 THEN {amount} ELSE 0 END",
            "recipient": "''",
            "phone": "''",
            "province": "''",
            "city": "''",
            "district": "''",
            "address_detail": "''",
            "ref_code": f"CASE WHEN g % 5 = 0 THEN 's' || (1 + (g * 31) % {buyers}) ELSE '' END",
            "created_at": f"{at} - interval '10 minutes'",
            "pay_deadline": at,
            "paid_at": f"CASE WHEN g % 10 = 0 THEN NULL ELSE {at} END",
        },
        [start, start, start],
    )
    line = {
        "shop_id": shop_id,
        "product_name": "''",
        "unit_price": "1000",
        "list_price": "1000",
        "quantity": "1",
        "line_total": "1000",
        "return_policy": "'no_reason_7d'",
        "refunded_quantity": "CASE WHEN o.status = 'closed' THEN 1 ELSE 0 END",
        "refunded_amount": "CASE WHEN o.status = 'closed' THEN 1000 ELSE 0 END",
    }
    for offset, share in ((0, ""), (17, "AND o.id % 10 < 3")):
        _lines(OrderLine, line, offset, share)
    # The orders went in past the events that keep the buyer summary: rebuild it, as an operator
    # does after a bulk load (manage.py analytics_rebuild_buyers), and say what that costs.
    began = time.perf_counter()
    rows = buyer_summaries_rebuild(shop_ids=[shop.pk])
    print(f"{orders} orders: buyer summary rebuilt ({rows} rows) in {time.perf_counter() - began:.1f}s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _lines(model, values: dict[str, str], offset: int, where: str) -> None:
    """One line per order (or per chosen order), its product picked from the order id."""
    from django.db import connection

    from bench.live_schema import _defaults

    expressions = {
        **values,
        "order_id": "o.id",
        "product_id": f"(SELECT MIN(id) FROM catalog_product) + (o.id + {offset}) % {PRODUCTS}",
        "sku_id": f"(SELECT MIN(id) FROM catalog_sku) + (o.id + {offset}) % {PRODUCTS}",
    }
    fields = {f.attname: f for f in model._meta.concrete_fields}
    defaults = _defaults(model, expressions)
    columns = [fields[name].column for name in [*expressions, *defaults]]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT "
        f"{', '.join([*(_sql(e) for e in expressions.values()), *(['%s'] * len(defaults))])} "
        f"FROM orders_order o WHERE TRUE {_sql(where)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [fields[n].get_db_prep_save(v, connection) for n, v in defaults.items()])


def reports(shop, owner) -> dict:
    """Every dashboard read, as the console pages ask for it."""
    from siyu.analytics.cohorts import cohorts_report
    from siyu.analytics.dash_sql import DateRange
    from siyu.analytics.funnel import funnel_report
    from siyu.analytics.profit import profit_report
    from siyu.analytics.repurchase import repurchase_report
    from siyu.analytics.trends import trends_report

    month, quarter, year = DateRange.last_days(30), DateRange.last_days(90), DateRange.last_days(365)
    return {
        "trends_30d_by_day": lambda: trends_report(actor=owner, shop=shop, span=month, grain="day"),
        "trends_1y_by_month": lambda: trends_report(actor=owner, shop=shop, span=year, grain="month"),
        "funnel_90d": lambda: funnel_report(actor=owner, shop=shop, span=quarter, grain="week"),
        "profit_30d_vs_30d": lambda: profit_report(actor=owner, shop=shop, base=month.previous(), current=month),
        "cohorts_12m": lambda: cohorts_report(actor=owner, shop=shop, span=year),
        "repurchase_1y": lambda: repurchase_report(actor=owner, shop=shop, span=year),
    }


def baseline(shop):
    from django.db import connection

    def scan():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*), SUM(paid_amount - refunded_amount) FROM orders_order WHERE shop_id = %s", [shop.pk]
            )
            return cursor.fetchone()

    return scan


def timed(func) -> float:
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure() -> str:
    os.environ.update(ENV)
    import django

    django.setup()
    from siyu.accounts.services import staff_create
    from siyu.shops.models import Shop

    shop = Shop.objects.create(slug="bench", name="bench", is_default=True)
    owner = staff_create(actor=None, shop=shop, username="bench-owner", password="password123", role="owner")
    table: dict[str, list[float]] = {}
    for size in SIZES:
        began = time.perf_counter()
        fill(shop, size)
        print(f"{size} orders generated in {time.perf_counter() - began:.1f}s", flush=True)
        for name, func in {"baseline_full_scan": baseline(shop), **reports(shop, owner)}.items():
            table.setdefault(name, []).append(timed(func))
    ratio = SIZES[-1] / SIZES[0]
    print(f"\n{'query':<22}" + "".join(f"{n:>12,}" for n in SIZES) + f"{'growth':>10}{'÷ size':>9}")
    worst = 0.0
    for name, times in table.items():
        growth = times[-1] / times[0]
        if name != "baseline_full_scan":
            worst = max(worst, growth / ratio)
        print(f"{name:<22}" + "".join(f"{t:>11.3f}s" for t in times) + f"{growth:>9.1f}×{growth / ratio:>9.3f}")
    return f"dashboard_growth_10k_to_1m={worst:.3f}"


def main() -> None:
    recreate_database()
    try:
        summary = measure()
    finally:
        from django.db import connections

        connections.close_all()
        if os.environ.get("BENCH_KEEP_DATABASE") != "1":  # kept: to EXPLAIN a query by hand
            drop_database()
    print(summary, flush=True)


if __name__ == "__main__":
    main()
