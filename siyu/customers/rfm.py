"""RFM scores and lifecycle stages, recomputed for a whole shop in a few set-based statements.

Scores are quintiles among the customers with at least one order: 1 is the lowest fifth, 5 the
highest (most recent, most orders, most spent). They come from each customer's rank,
score = 1 + (rank - 1) * 5 // n, rather than from NTILE(5): NTILE cuts ties apart, so two customers
with the same order count could land in different scores and a segment "F ≥ 3" would pick
between them at random. With ranks, equal figures always get equal scores.
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Case, Count, Q, Value, When
from django.utils import timezone

from siyu.core.settings_rows import settings_row_get
from siyu.shops.models import Shop

from .models import CrmSettings, Customer, Lifecycle

SCORES = (1, 2, 3, 4, 5)
CHUNK = 2000


def crm_settings_for(*, shop: Shop) -> CrmSettings:
    """The shop's customer-pool settings (the defaults when never saved)."""
    return settings_row_get(CrmSettings, shop_id=shop.pk)


def _scores_sql() -> tuple[str, str]:
    table = connection.ops.quote_name(Customer._meta.db_table)

    def score(column: str) -> str:
        return f"1 + (RANK() OVER (ORDER BY {column}) - 1) * 5 / COUNT(*) OVER ()"

    select = (
        f"SELECT id, {score('last_order_at')} AS r, {score('order_count')} AS f, {score('total_spent')} AS m "
        f"FROM {table} WHERE shop_id = %s AND order_count > 0 AND last_order_at IS NOT NULL"
    )
    return table, select


def _update_from_supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version_info >= (3, 33, 0)
    return False


def _scores_write(shop: Shop) -> int:
    table, select = _scores_sql()
    with connection.cursor() as cursor:
        if _update_from_supported():
            # The same statement is valid on PostgreSQL and SQLite ≥ 3.33.
            cursor.execute(
                f"UPDATE {table} AS c SET rfm_r = s.r, rfm_f = s.f, rfm_m = s.m FROM ({select}) AS s WHERE c.id = s.id",
                [shop.pk],
            )
            return cursor.rowcount
        cursor.execute(select, [shop.pk])
        done = 0
        while rows := cursor.fetchmany(CHUNK):
            with connection.cursor() as writer:
                writer.executemany(
                    f"UPDATE {table} SET rfm_r = %s, rfm_f = %s, rfm_m = %s WHERE id = %s",
                    [(r, f, m, pk) for pk, r, f, m in rows],
                )
            done += len(rows)
        return done


def _lifecycle_case(settings: CrmSettings, now) -> Case:
    def since(days: int):
        return now - timedelta(days=days)

    return Case(
        When(Q(order_count=0) | Q(last_order_at__isnull=True), then=Value(Lifecycle.PROSPECT)),
        When(first_order_at__gte=since(settings.new_days), then=Value(Lifecycle.NEW)),
        When(last_order_at__gte=since(settings.active_days), then=Value(Lifecycle.ACTIVE)),
        When(last_order_at__gte=since(settings.at_risk_days), then=Value(Lifecycle.AT_RISK)),
        When(last_order_at__gte=since(settings.dormant_days), then=Value(Lifecycle.DORMANT)),
        default=Value(Lifecycle.LOST),
    )


def rfm_recompute(*, shop: Shop, now=None) -> dict:
    """Score every customer of the shop and set their lifecycle stage from the shop's thresholds:
    new (first order within new_days), active / at risk / dormant (last order within active_days /
    at_risk_days / dormant_days), lost beyond that, prospect without orders. Three statements."""
    now = now or timezone.now()
    settings = crm_settings_for(shop=shop)
    with transaction.atomic():
        scored = _scores_write(shop)
        unscored = (
            Customer.objects.filter(shop=shop)
            .filter(Q(order_count=0) | Q(last_order_at__isnull=True))
            .exclude(rfm_r=0, rfm_f=0, rfm_m=0)
            .update(rfm_r=0, rfm_f=0, rfm_m=0)
        )
        staged = Customer.objects.filter(shop=shop).update(lifecycle=_lifecycle_case(settings, now))
    return {"scored": scored, "unscored": unscored, "staged": staged}


def rfm_distribution(*, shop: Shop) -> dict:
    """How many customers are in each lifecycle stage and each R, F and M score (0 = no orders),
    for the console chart. One query."""
    counts = {f"stage_{value}": Count("pk", filter=Q(lifecycle=value)) for value, _label in Lifecycle.choices}
    for letter in "rfm":
        for score in (0, *SCORES):
            counts[f"{letter}_{score}"] = Count("pk", filter=Q(**{f"rfm_{letter}": score}))
    row = Customer.objects.filter(shop=shop, anonymized_at__isnull=True).aggregate(total=Count("pk"), **counts)
    return {
        "total": row["total"],
        "lifecycle": {value: row[f"stage_{value}"] for value, _label in Lifecycle.choices},
        **{letter: {score: row[f"{letter}_{score}"] for score in (0, *SCORES)} for letter in "rfm"},
    }
