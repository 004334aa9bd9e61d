"""Preparing a campaign to BENCH_CAMPAIGN_CUSTOMERS customers (default 100,000) on PostgreSQL,
against a bare bulk insert of the same rows in the same run.

  ours      siyu.campaigns.outreach.prepare.campaign_prepare_run: the audience snapshot (the
            segment's rules evaluated over the pool, consenting customers only), the seeded
            holdout and variant deal, a random link code and one recipient (message) row per
            customer, batch by batch, each batch its own transaction, progress saved with it.
  baseline  the very rows ours wrote (read back, then deleted), put in again with the bare driver
            (psycopg executemany, one transaction); columns from the live model (bench/live_schema.py).

Then, on the prepared campaign (treated recipients marked sent, every 20th recipient with a paid
order in the attribution window, every 50th with one before it), it times the results the page and
API show (siyu.campaigns.outreach.results.campaign_results: per group counts, revenue, uplift, ROI,
all aggregated in SQL) and prints campaign_results_ms=<median of three runs>.

Ends with one line: campaign_prepare_vs_bulk_insert=<bulk seconds ÷ our seconds> (ours as a share of
the bare insert's speed; target ≥ 0.3), after the rows/s of each.

    make bench-campaign
    BENCH_CAMPAIGN_CUSTOMERS=20000 make bench-campaign

tests/bench/test_campaign.py runs it at a smoke size on the PostgreSQL pass, with
BENCH_DATABASE_NAME naming its own database (made and dropped here, never the test database).
"""

import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "siyu_bench_campaign")
PG_URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME
CUSTOMERS = int(os.environ.get("BENCH_CAMPAIGN_CUSTOMERS", "100000"))
HOLDOUT_BP = 1000
RULES = {"all": [{"field": "city", "op": "eq", "value": "杭州市"}]}
RECIPIENT_COLUMNS = ["campaign_id", "customer_id", "variant_id", "code", "status"]


def database_make(env: dict) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)


def database_drop() -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def pool_make(shop_id: int) -> None:
    """CUSTOMERS consenting customers in one city, plus a tenth more elsewhere (outside the segment),
    in one INSERT … SELECT (not timed)."""
    from django.db import connection

    from bench.live_schema import insert_select
    from siyu.customers.models import Customer

    total = CUSTOMERS + CUSTOMERS // 10
    sql, params = insert_select(
        Customer,
        connection=connection,
        select={
            "shop_id": "%(shop)s",
            "public_id": "'b' || lpad(g::text, 12, '0')",
            "phone_hash": "md5(g::text)",
            "name": "'顾客' || g",
            "city": f"CASE WHEN g <= {CUSTOMERS} THEN '杭州市' ELSE '上海市' END",
            "marketing_consent_at": "now()",
            "created_at": "now()",
        },
        rest="FROM generate_series(1, %(total)s) AS g",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "shop": shop_id, "total": total})
        cursor.execute("ANALYZE customers_customer")


def campaign_make(shop):
    from django.utils import timezone

    from siyu.campaigns.outreach.models import Campaign, CampaignVariant
    from siyu.customers.models import Segment

    segment = Segment.objects.create(shop=shop, name="杭州", rules=RULES)
    campaign = Campaign.objects.create(
        shop=shop,
        public_id="bench" + secrets.token_hex(4),
        name="压测",
        segment=segment,
        segment_name=segment.name,
        channel="log",
        holdout_bp=HOLDOUT_BP,
        seed=secrets.token_hex(16),
        status="scheduled",
        scheduled_at=timezone.now(),
    )
    CampaignVariant.objects.bulk_create(
        [CampaignVariant(campaign=campaign, index=i, text=f"{{name}} 变体{i} {{link}}") for i in range(2)]
    )
    return campaign


def ours(campaign) -> float:
    from siyu.campaigns.outreach import prepare

    prepare._enqueue_send = lambda campaign_id: None  # the bench measures preparing only
    t0 = time.perf_counter()
    done = prepare.campaign_prepare_run(campaign_id=campaign.pk)
    elapsed = time.perf_counter() - t0
    assert done is not None and done.status == "sending", "preparing did not finish"
    return elapsed


def bulk(campaign) -> tuple[float, int]:
    """Read our rows back, delete them, insert them again with the bare driver; (seconds, rows)."""
    import psycopg
    from django.db import connection

    from bench.live_schema import RawInsert
    from siyu.campaigns.outreach.models import CampaignRecipient

    rows = list(CampaignRecipient.objects.filter(campaign=campaign).order_by("id").values_list(*RECIPIENT_COLUMNS))
    CampaignRecipient.objects.filter(campaign=campaign).delete()
    insert = RawInsert(CampaignRecipient, connection=connection, per_row=RECIPIENT_COLUMNS)
    params = [insert.params(row) for row in rows]
    conn = psycopg.connect(PG_URL, autocommit=True)
    t0 = time.perf_counter()
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.executemany(insert.sql, params)
    cur.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == len(rows)
    return elapsed, len(rows)


def orders_make(campaign) -> int:
    """Give the pool shoppers, mark the treated recipients sent (5 fen each) and let every 20th
    recipient pay one order inside the attribution window and every 50th one before it (not
    counted), all in set-based SQL (not timed). Returns the orders in the window."""
    from django.db import connection

    from bench.live_schema import insert_select
    from siyu.accounts.models import Shopper
    from siyu.campaigns.outreach.models import CampaignRecipient
    from siyu.customers.models import Customer
    from siyu.orders.models import Order

    customers, recipients = Customer._meta.db_table, CampaignRecipient._meta.db_table
    shoppers = Shopper._meta.db_table
    params = {"shop": campaign.shop_id, "campaign": campaign.pk}
    sql, defaults = insert_select(
        Shopper,
        connection=connection,
        select={"phone_hash": "'bench' || c.id", "phone": "''", "nickname": "''", "share_code": "'b' || c.id"},
        rest=f"FROM {customers} c WHERE c.shop_id = %(shop)s",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {**defaults, **params})
        cursor.execute(
            f"UPDATE {customers} c SET shopper_id = s.id FROM {shoppers} s "
            f"WHERE s.phone_hash = 'bench' || c.id AND c.shop_id = %(shop)s",
            params,
        )
        cursor.execute(
            f"UPDATE {recipients} SET status = 'sent', cost_fen = 5, sent_at = now() "
            f"WHERE campaign_id = %(campaign)s AND variant_id IS NOT NULL",
            params,
        )
    start = campaign.send_started_at
    made = 0
    for every, paid_at in ((20, start + timedelta(hours=1)), (50, start - timedelta(hours=1))):
        sql, defaults = insert_select(
            Order,
            connection=connection,
            select={
                "shop_id": "%(shop)s",
                "public_id": f"'o{every}' || r.id",
                "number": f"'n{every}' || r.id",
                "shopper_id": "c.shopper_id",
                "idempotency_key": f"'k{every}' || r.id",
                "status": "'paid'",
                "subtotal": "5000 + r.id %% 100 * 100",
                "total": "5000 + r.id %% 100 * 100",
                "paid_amount": "5000 + r.id %% 100 * 100",
                "paid_at": "%(paid_at)s",
                "recipient": "'王五'",
                "phone": "''",
                "province": "'浙江省'",
                "city": "'杭州市'",
                "district": "'西湖区'",
                "address_detail": "''",
                "note": "''",
                "ref_code": "''",
                "pay_deadline": "%(paid_at)s",
            },
            rest=f"FROM {recipients} r JOIN {customers} c ON c.id = r.customer_id "
            f"WHERE r.campaign_id = %(campaign)s AND r.id %% {every} = 0",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {**defaults, **params, "paid_at": paid_at})
            made += cursor.rowcount if every == 20 else 0
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {shoppers}")
        cursor.execute(f"ANALYZE {customers}")
        cursor.execute(f"ANALYZE {recipients}")
        cursor.execute(f"ANALYZE {Order._meta.db_table}")
    return made


def results_time(campaign, orders: int) -> float:
    """Milliseconds of campaign_results (what the results page and API compute), the median of
    three runs after a warm-up; checks the figures add up."""
    from siyu.campaigns.outreach.models import Campaign
    from siyu.campaigns.outreach.results import campaign_results

    campaign = Campaign.objects.get(pk=campaign.pk)
    result = campaign_results(campaign=campaign)
    assert sum(g.recipients for g in result.groups) == CUSTOMERS, "results lost recipients"
    assert sum(g.ordered for g in result.groups) == orders, (sum(g.ordered for g in result.groups), orders)
    runs = []
    for _i in range(3):
        t0 = time.perf_counter()
        campaign_results(campaign=campaign)
        runs.append((time.perf_counter() - t0) * 1000)
    return sorted(runs)[1]


def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="siyu-bench-campaign-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SIYU_DATA_DIR": data_dir,
        "DATABASE_URL": PG_URL,
    }
    database_make(env)
    os.environ.clear()
    os.environ.update(env)
    try:
        import django

        django.setup()
        from django.db import connection

        from siyu.campaigns.outreach.models import Campaign
        from siyu.shops.services import shop_create

        assert connection.vendor == "postgresql"
        shop = shop_create(slug="bench", name="活动压测", is_default=True)
        pool_make(shop.pk)
        campaign = campaign_make(shop)
        our_s = ours(campaign)
        campaign = Campaign.objects.get(pk=campaign.pk)
        assert campaign.prepared == CUSTOMERS, (campaign.prepared, CUSTOMERS)
        share = campaign.control / CUSTOMERS
        assert CUSTOMERS < 1000 or abs(share - HOLDOUT_BP / 10000) < 0.02, share
        bulk_s, rows = bulk(campaign)
        assert rows == CUSTOMERS
        orders = orders_make(campaign)
        results_ms = results_time(campaign, orders)
        connection.close()
    finally:
        database_drop()
    print(f"customers={CUSTOMERS} control={campaign.control} holdout_share={share:.4f}")
    print(f"ours_seconds={our_s:.3f} ours_rows_per_s={CUSTOMERS / our_s:.0f}")
    print(f"bulk_seconds={bulk_s:.3f} bulk_rows_per_s={CUSTOMERS / bulk_s:.0f}")
    print(f"campaign_results_orders={orders} campaign_results_ms={results_ms:.0f}")
    print(f"campaign_prepare_vs_bulk_insert={bulk_s / our_s:.3f}")


if __name__ == "__main__":
    main()
