"""Preparing a campaign to BENCH_CAMPAIGN_CUSTOMERS customers (default 100,000) on PostgreSQL,
against a bare bulk insert of the same rows in the same run.

  ours      siyu.campaigns.outreach.prepare.campaign_prepare_run: the audience snapshot (the
            segment's rules evaluated over the pool, consenting customers only), the seeded
            holdout and variant deal, a random link code and one recipient (message) row per
            customer, batch by batch, each batch its own transaction, progress saved with it.
  baseline  the very rows ours wrote (read back, then deleted), put in again with the bare driver
            (psycopg executemany, one transaction); columns from the live model (bench/live_schema.py).

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
        connection.close()
    finally:
        database_drop()
    print(f"customers={CUSTOMERS} control={campaign.control} holdout_share={share:.4f}")
    print(f"ours_seconds={our_s:.3f} ours_rows_per_s={CUSTOMERS / our_s:.0f}")
    print(f"bulk_seconds={bulk_s:.3f} bulk_rows_per_s={CUSTOMERS / bulk_s:.0f}")
    print(f"campaign_prepare_vs_bulk_insert={bulk_s / our_s:.3f}")


if __name__ == "__main__":
    main()
