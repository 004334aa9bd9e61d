"""Commission for many orders at once: the same rules as `commissions`, written as INSERT … SELECT so
that a backlog (an import, a replay, the hourly settlement) costs a handful of statements per thousand
orders instead of a dozen per order.

Locks keep the global order: the batch's order rows (pk order), then the accounts (pk order).
"""

import secrets
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import Conflict
from siyu.core.events import event_record
from siyu.core.models import AuditEntry
from siyu.orders.models import Order, OrderStatus
from siyu.orders.states import OPEN as OPEN_AFTER_SALES  # every after-sale still in progress

from . import ledger
from .commissions import C, RateBook, commissions_mark_received, commissions_reverse, settle_after_for
from .flags import flag_raise
from .models import Commission, CommissionRule, LedgerAccount, Promoter
from .promoters import settings_for
from .states import COMMISSION

BULK_ORDERS = 2000  # orders per accrual transaction
BULK_SETTLE = 10000  # commissions per settlement transaction
_SIDES = "(SELECT 0 AS side UNION ALL SELECT 1 AS side) s"


def _batch_size(wanted: int, reserve: int = 50) -> int:
    """SQLite takes at most 999 parameters a statement; PostgreSQL has no such limit."""
    cap = connection.features.max_query_params
    return min(wanted, cap - reserve) if cap else wanted


def _marks(values) -> str:
    return ", ".join(["%s"] * len(values))


def _rate_sql(book: RateBook, tier: int) -> tuple[str, list]:
    """COALESCE(product rule, own category rule, parent category rule, default): the RateBook's
    order, as one expression over the rules (a shop has few of them)."""
    parts, params = [], []
    for column, mapping in (
        ("l.product_id", {k: v for (k, t), v in book.by_product.items() if t == tier}),
        ("pr.category_id", {k: v for (k, t), v in book.by_category.items() if t == tier}),
        ("cat.parent_id", {k: v for (k, t), v in book.by_category.items() if t == tier}),
    ):
        if mapping:
            parts.append(f"CASE {column} " + " ".join(["WHEN %s THEN %s"] * len(mapping)) + " END")
            params += [x for pair in mapping.items() for x in pair]
    if not parts:
        return "%s", [book.defaults[tier]]  # SQLite refuses a COALESCE of one argument
    return f"COALESCE({', '.join([*parts, '%s'])})", [*params, book.defaults[tier]]


def _settle_after_sql(received: list[datetime | None], freeze_days: int) -> tuple[str, list]:
    """settle_after_for() per order as a CASE over the local days the batch's orders were received
    on (a step function of received_at, so a few WHENs cover a whole batch)."""
    adapt = connection.ops.adapt_datetimefield_value
    # PostgreSQL types a bare parameter or NULL in a sub-select as text; SQLite must not cast (it would
    # turn the timestamp text into a number).
    stamp = "CAST(%s AS TIMESTAMPTZ)" if connection.vendor == "postgresql" else "%s"
    days = sorted({timezone.localdate(at) for at in received if at is not None})
    if not days:
        return ("CAST(NULL AS TIMESTAMPTZ)" if connection.vendor == "postgresql" else "NULL"), []
    whens, params = [], []
    for day in days:
        next_midnight = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        due = settle_after_for(received_at=next_midnight - timedelta(microseconds=1), freeze_days=freeze_days)
        whens.append(f"WHEN o.received_at < %s THEN {stamp}")
        params += [adapt(next_midnight), adapt(due)]
    return "CASE " + " ".join(whens) + " ELSE NULL END", params


_ACCRUE_SQL = """
INSERT INTO distribution_commission
    (shop_id, promoter_id, order_id, line_id, tier, base_amount, rate_bp, amount, status, settle_after, created_at)
SELECT q.shop_id, q.promoter_id, q.order_id, q.line_id, {tier}, q.base, q.rate, q.base * q.rate / 10000,
    'frozen', q.settle_after, %s
FROM (
    SELECT o.shop_id, {earner}.id AS promoter_id, o.id AS order_id, l.id AS line_id, {rate} AS rate,
        CASE WHEN o.subtotal = 0 THEN 0
             ELSE CAST(l.line_total AS BIGINT) * (o.subtotal - o.discount) / o.subtotal END AS base,
        {settle} AS settle_after
    FROM orders_order o
    JOIN orders_orderline l ON l.order_id = o.id
    JOIN accounts_shopper s ON s.share_code = o.ref_code
    JOIN distribution_promoter p ON p.shopper_id = s.id AND p.shop_id = o.shop_id
    {joins}
    WHERE o.id IN ({ids}) AND p.status = 'approved' AND p.shopper_id <> o.shopper_id {where}
      AND NOT EXISTS (SELECT 1 FROM distribution_commission d WHERE d.line_id = l.id AND d.tier = {tier})
) q
ORDER BY q.line_id
"""
_PARENT_JOIN = "JOIN distribution_promoter pp ON pp.id = p.parent_id"
_PARENT_WHERE = "AND pp.status = 'approved' AND pp.shopper_id <> o.shopper_id"
_CATEGORY_JOIN = (
    "JOIN catalog_product pr ON pr.id = l.product_id LEFT JOIN catalog_category cat ON cat.id = pr.category_id"
)

# NOT EXISTS because SQLite has no NULLS NOT DISTINCT unique (Django leaves it out there);
# ON CONFLICT for two PostgreSQL runs making the same account at once.
_ENSURE_ACCOUNTS_SQL = """
INSERT INTO distribution_ledgeraccount (shop_id, promoter_id, kind)
SELECT DISTINCT c.shop_id, c.promoter_id, k.kind
FROM distribution_commission c CROSS JOIN ({kinds}) k
WHERE {where} AND NOT EXISTS (
    SELECT 1 FROM distribution_ledgeraccount a
    WHERE a.shop_id = c.shop_id AND a.promoter_id = c.promoter_id AND a.kind = k.kind)
ON CONFLICT DO NOTHING
"""

# Both lines of a transaction share its id: a batch token plus the commission id (unique per run).
_ACCRUE_POST_SQL = """
INSERT INTO distribution_ledgerentry (shop_id, "transaction", account_id, amount, ref_type, ref_id, memo, created_at)
SELECT c.shop_id, %s || CAST(c.id AS TEXT), CASE WHEN s.side = 0 THEN %s ELSE a.id END,
    CASE WHEN s.side = 0 THEN -c.amount ELSE c.amount END, 'commission', c.id, 'accrue order ' || o.number, %s
FROM distribution_commission c
JOIN orders_order o ON o.id = c.order_id
JOIN distribution_ledgeraccount a ON a.shop_id = c.shop_id AND a.promoter_id = c.promoter_id AND a.kind = 'frozen'
CROSS JOIN {sides}
WHERE c.id > %s AND c.order_id IN ({ids}) AND c.amount > 0
ORDER BY c.id, s.side
"""


def _ensure_accounts(cursor, kinds: tuple[str, ...], where: str, params: list) -> None:
    names = " UNION ALL ".join(["SELECT %s AS kind"] * len(kinds))
    cursor.execute(_ENSURE_ACCOUNTS_SQL.format(kinds=names, where=where), [*kinds, *params])
    if connection.vendor == "postgresql" and cursor.rowcount > 1000:
        # A burst of new accounts (a first backlog) leaves the planner believing the table is
        # empty, and it then joins ledger lines to accounts by scanning it once per line.
        cursor.execute("ANALYZE distribution_ledgeraccount")


def _accrue_batch(shop_id: int, order_ids: list[int], shop_settings, book: RateBook, expense_id: int) -> int:
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update()
            .filter(pk__in=order_ids, shop_id=shop_id, paid_at__isnull=False)
            .exclude(ref_code="")
            .exclude(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED])
            .order_by("pk")
            .values_list("pk", "received_at", "refunded_amount")
        )
        if not orders:
            return 0
        ids = [row[0] for row in orders]
        _flag_self_purchases(shop_id, ids)
        before = Commission.objects.aggregate(m=Max("pk"))["m"] or 0
        settle, settle_params = _settle_after_sql([row[1] for row in orders], shop_settings.freeze_days)
        made = 0
        with connection.cursor() as cursor:
            for tier in (1, 2) if shop_settings.tiers == 2 else (1,):
                rate, rate_params = _rate_sql(book, tier)
                sql = _ACCRUE_SQL.format(
                    tier=tier,
                    earner="pp" if tier == 2 else "p",
                    rate=rate,
                    settle=settle,
                    joins=(_PARENT_JOIN if tier == 2 else "") + (" " + _CATEGORY_JOIN if book.by_category else ""),
                    where=_PARENT_WHERE if tier == 2 else "",
                    ids=_marks(ids),
                )
                cursor.execute(sql, [now, *rate_params, *settle_params, *ids])
                made += max(cursor.rowcount, 0)
            if not made:
                return 0
            _ensure_accounts(cursor, (ledger.FROZEN,), f"c.id > %s AND c.order_id IN ({_marks(ids)})", [before, *ids])
            token = secrets.token_hex(8) + "a"
            cursor.execute(
                _ACCRUE_POST_SQL.format(sides=_SIDES, ids=_marks(ids)), [token, expense_id, now, before, *ids]
            )
        refunded = [row[0] for row in orders if row[2]]
        if refunded:  # refunded before the accrual reached them: rare, so one order at a time
            touched = set(
                Commission.objects.filter(pk__gt=before, order_id__in=refunded).values_list("order_id", flat=True)
            )
            for order in Order.objects.filter(pk__in=touched).order_by("pk"):
                commissions_reverse(order=order)
    return made


def _flag_self_purchases(shop_id: int, ids: list[int]) -> None:
    """Orders bought through the buyer's own link earn nothing; flag them as the per-order path does."""
    rows = list(
        Order.objects.filter(pk__in=ids)
        .annotate(
            own=Subquery(
                Promoter.objects.filter(
                    shop_id=shop_id, status=Promoter.Status.APPROVED, shopper__share_code=OuterRef("ref_code")
                ).values("shopper_id")[:1]
            )
        )
        .filter(own=F("shopper_id"))
        .values_list("pk", flat=True)
    )
    if not rows:
        return
    promoters = {
        p.shopper_id: p
        for p in Promoter.objects.filter(shop_id=shop_id, shopper__orders__pk__in=rows, status=Promoter.Status.APPROVED)
    }
    for order in Order.objects.filter(pk__in=rows).order_by("pk"):
        promoter = promoters.get(order.shopper_id)
        if promoter is not None:
            flag_raise(promoter=promoter, kind="self_purchase", key=f"order:{order.pk}", data={"order": order.pk})


def commissions_accrue_bulk(*, shop, order_ids) -> int:
    """commissions_accrue for many orders of one shop, set-based: per batch of orders, one INSERT …
    SELECT of commissions per tier and one of their ledger lines. Idempotent like the per-order
    path (a (line, tier) that has its commission is skipped). Returns the commissions made."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    shop_settings = settings_for(shop_id)
    if not shop_settings.enabled:
        return 0
    book = RateBook(shop_settings, list(CommissionRule.objects.filter(shop_id=shop_id)))
    expense_id = ledger.shop_account(shop_id, ledger.EXPENSE).pk
    ids = sorted({int(pk) for pk in order_ids})
    size = _batch_size(BULK_ORDERS, reserve=200)
    return sum(
        _accrue_batch(shop_id, ids[i : i + size], shop_settings, book, expense_id) for i in range(0, len(ids), size)
    )


_SETTLE_POST_SQL = """
INSERT INTO distribution_ledgerentry (shop_id, "transaction", account_id, amount, ref_type, ref_id, memo, created_at)
SELECT c.shop_id, %s || CAST(c.id AS TEXT), CASE WHEN s.side = 0 THEN f.id ELSE v.id END,
    CASE WHEN s.side = 0 THEN -c.amount ELSE c.amount END, 'commission', c.id, 'settle', %s
FROM distribution_commission c
JOIN distribution_ledgeraccount f ON f.shop_id = c.shop_id AND f.promoter_id = c.promoter_id AND f.kind = 'frozen'
JOIN distribution_ledgeraccount v ON v.shop_id = c.shop_id AND v.promoter_id = c.promoter_id AND v.kind = 'available'
CROSS JOIN {sides}
WHERE c.id IN ({ids}) AND c.amount > 0
ORDER BY c.id, s.side
"""
_OVERDRAWN_SQL = """
SELECT e.account_id FROM distribution_ledgerentry e WHERE e.account_id IN ({ids})
GROUP BY e.account_id HAVING SUM(e.amount) < 0
"""


def _settle_rows(shop_id: int, ids: list[int], now: datetime) -> None:
    """Frozen → available for locked commission rows, one balanced transaction each."""
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        _ensure_accounts(cursor, (ledger.FROZEN, ledger.AVAILABLE), f"c.id IN ({_marks(ids)})", ids)
        frozen = list(
            LedgerAccount.objects.select_for_update()
            .filter(kind=ledger.FROZEN, promoter_id__in=Commission.objects.filter(pk__in=ids).values("promoter_id"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        token = secrets.token_hex(8) + "s"
        cursor.execute(_SETTLE_POST_SQL.format(sides=_SIDES, ids=_marks(ids)), [token, stamp, *ids])
        for i in range(0, len(frozen), _batch_size(BULK_SETTLE)):
            part = frozen[i : i + _batch_size(BULK_SETTLE)]
            cursor.execute(_OVERDRAWN_SQL.format(ids=_marks(part)), part)
            if cursor.fetchone() is not None:  # frozen holds exactly its frozen commissions: never expected
                raise Conflict(_("Not enough balance."), code="insufficient_balance")
    # The caller holds these rows locked and still frozen, so the claim takes every one of them.
    COMMISSION.claim(Commission.objects.filter(pk__in=ids), current=C.FROZEN, to=C.SETTLED, settled_at=now)
    event_record(topic="commission.settled", shop_id=shop_id, payload={"commissions": ids})
    # One audit row per batch, not per commission: a backlog settles tens of thousands at once, and
    # each commission's own history is in its settled_at and its "settle" ledger lines.
    AuditEntry.objects.create(
        shop_id=shop_id,
        actor_label="system",
        action=f"{COMMISSION.name}.{C.SETTLED}",
        target_type="commission",
        target_id=f"{ids[0]}..{ids[-1]}",
        data={"from": C.FROZEN, "to": C.SETTLED, "why": "refund window and freeze over", "count": len(ids)},
    )


def commissions_settle_bulk(*, shop, now: datetime, limit: int | None = None) -> int:
    """Settle one shop's due commissions set-based, a batch per transaction (lock the batch's
    commission rows, then its frozen accounts, both in pk order). Returns the number settled."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    done, after = 0, 0
    while limit is None or done < limit:
        size = _batch_size(BULK_SETTLE) if limit is None else min(_batch_size(BULK_SETTLE), limit - done)
        with transaction.atomic():
            ids = list(
                _due(now)
                .filter(shop_id=shop_id, pk__gt=after)
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                break
            _settle_rows(shop_id, ids, now)
        done += len(ids)
        after = ids[-1]
    return done


def _due(now: datetime):
    return (
        Commission.objects.filter(status=C.FROZEN, settle_after__lte=now, order__status=OrderStatus.COMPLETED)
        .exclude(line__after_sales__status__in=OPEN_AFTER_SALES)
        .order_by("pk")
    )


def _backfill_settle_after() -> None:
    """Commissions accrued after their order was received, or before the freeze was known."""
    pending = (
        Commission.objects.filter(status=C.FROZEN, settle_after__isnull=True, order__received_at__isnull=False)
        .order_by()
        .values_list("order_id", flat=True)
        .distinct()
    )
    for order_id in list(pending[:1000]):
        commissions_mark_received(order_id=order_id)


def commissions_settle_due(*, now: datetime | None = None, limit: int = 10000) -> int:
    """Move every commission past its settlement time (received, completed, window and freeze
    over, no open after-sale) from frozen to available. Returns the number settled."""
    now = now or timezone.now()
    _backfill_settle_after()
    done = 0
    for shop_id in sorted(set(_due(now).order_by().values_list("shop_id", flat=True).distinct())):
        if done >= limit:
            break
        done += commissions_settle_bulk(shop=shop_id, now=now, limit=limit - done)
    return done
