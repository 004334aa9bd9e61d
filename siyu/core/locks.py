"""The one global lock order, and the helpers that take row locks in it.

Two transactions that lock the same rows in different orders can deadlock on PostgreSQL (each
waits for the other; the database kills one, and the request turns into a 500). So every path
that locks more than one kind of row takes them in this order, and within one kind in primary-key
order:

    rank  rows                                            taken by (examples)
    ----  ----------------------------------------------  ------------------------------------------
    10    shop-level rows (settings, shared counters)     distribution settings, coupon counters
    20    Order                                           order_lock: cancel, pay, ship, after-sales
    30    AfterSale (pk order)                            review, receive a return, refund settle
    40    Payment (pk order)                              notification, manual payment, refunds
    50    Refund (pk order)                               refund_execute settling a provider answer
    60    Sku stock (conditional UPDATE, pk order)        cancel, late payment, returned goods
    70    in-transaction reactions to the change          commissions, rewards, points (their own
                                                          order inside, e.g. commission rows, then
    80    ledger accounts (pk order)                      ledger.post)

Order lines have no rank of their own: they are only read or changed under their order's lock.
A row already held may be locked again at any time (PostgreSQL locks are re-entrant within a
transaction), so a reaction that re-locks the order it reacts to is fine.

Helpers: `lock_rows` locks a queryset's rows (pk order) at a rank and remembers the highest rank
taken by the work in progress (the atomic block where it took its first lock, and everything
nested in it); asking for a lower rank afterwards for a row not yet held raises
`LockOrderViolation` — on SQLite too, where row locks do not exist, so the ordinary test suite
catches a path that would deadlock on PostgreSQL.
"""

import weakref
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

SHOP, ORDER, AFTERSALE, PAYMENT, REFUND, STOCK, REACTION, LEDGER = 10, 20, 30, 40, 50, 60, 70, 80


class LockOrderViolation(RuntimeError):
    """A code path asked for locks against the global order: a latent deadlock, a programming error."""


class _Held:
    """What one transaction holds: the highest rank taken and each (table, pk) locked."""

    def __init__(self, block):
        self.block = block  # kept alive so a new transaction can never be mistaken for this one
        self.rank = 0
        self.rows: set[tuple[str, object]] = set()


# Per database connection (each thread has its own), forgotten with the connection.
_HELD: "weakref.WeakKeyDictionary[Any, _Held]" = weakref.WeakKeyDictionary()


def _held() -> _Held | None:
    """The lock record of the work in progress: kept for as long as the atomic block in which the
    first lock was taken is open, so a service and everything it calls are checked as one. A batch
    that runs many services inside one outer transaction (the demo builder) is checked service by
    service: those run alone, and checking across them would only flag independent rows."""
    blocks = [b for b in connection.atomic_blocks if not getattr(b, "_from_testcase", False)]
    if not blocks:
        return None
    wrapper = connections[DEFAULT_DB_ALIAS]  # this thread's own connection, not the shared proxy
    state = _HELD.get(wrapper)
    if state is None or not any(b is state.block for b in blocks):
        state = _Held(blocks[-1])
        _HELD[wrapper] = state
    return state


def _note(rank: int, table: str, pks: list) -> None:
    state = _held()
    if state is None:
        return  # outside a transaction select_for_update itself refuses
    new = [pk for pk in pks if (table, pk) not in state.rows]
    if new and rank < state.rank:
        raise LockOrderViolation(
            f"locking {table} {new} (rank {rank}) after rank {state.rank}: see siyu/core/locks.py for the order"
        )
    state.rank = max(state.rank, rank)
    state.rows.update((table, pk) for pk in pks)


def lock_rows(queryset: models.QuerySet, *, rank: int, of: tuple[str, ...] = ()) -> list:
    """Lock every row of `queryset` in primary-key order and return them (the caller's transaction
    holds the locks until it ends). `of` limits the lock to the queryset's own table when it joins
    others (select_related)."""
    qs = queryset.select_for_update(of=of) if of else queryset.select_for_update()
    rows = list(qs.order_by("pk"))
    _note(rank, queryset.model._meta.db_table, [row.pk for row in rows])
    return rows


def lock_one(queryset: models.QuerySet, *, rank: int, of: tuple[str, ...] = ()):
    """Lock the single row `queryset` names, or return None when there is none."""
    rows = lock_rows(queryset, rank=rank, of=of)
    return rows[0] if rows else None


def note_update(*, rank: int, table: str, pks: list) -> None:
    """Record rows locked by a conditional UPDATE (stock), which takes row locks without a SELECT."""
    _note(rank, table, sorted(pks))
