"""Read replicas: which reads may leave the primary, and read-your-writes for whoever just wrote.

Reads go to the primary unless three things hold:
1. the code path said a replica is good enough, with `replica_reads()` (a context manager and a
   decorator): list pages, analytics, exports and the worker's reports, where a figure a second
   old is fine. Everything else — checkout, payments, anything that reads in order to write —
   never asked, so it reads the primary;
2. the primary's connection is not inside a transaction (an atomic block): a read there may be the
   "check" of a check-then-act, and a replica could answer with rows from before the lock. Locking
   reads (select_for_update, get_or_create) are writes to Django and never come here;
3. the caller has not written: not earlier in this request or task (any statement other than a
   read on the primary's connection counts, raw SQL included), and not in the last
   SIYU_REPLICA_STICKY_SECONDS before this request (a signed cookie set by
   `ReadYourWritesMiddleware`), so a seller who saves a product and lands on the list sees it.

Replicas are the aliases in settings.SIYU_REPLICA_ALIASES (from DATABASE_REPLICA_URLS). With none
configured nothing here runs beyond one settings lookup: no wrapper, no cookie, no query.
Migrations run only on the primary (`allow_migrate` refuses every replica alias).
"""

import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.signing import BadSignature
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponseBase

STICKY_COOKIE = "siyu_primary"
_SALT = "siyu.core.db_router.primary"
# Statements that do not change data. Anything else on the primary — INSERT, UPDATE, DELETE,
# COPY, DDL, a WITH that may hide an UPDATE — marks the caller as a writer.
_READ_PREFIXES = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "SET ", "SHOW", "EXPLAIN", "DECLARE", "CLOSE")

T = TypeVar("T")


@dataclass
class _Scope:
    """One request or task: whether its reads may go to a replica now, and whether it wrote."""

    replica_ok: bool = False
    wrote: bool = False  # a statement other than a read ran on the primary in this scope
    pinned: bool = False  # the caller wrote a moment before this request (the sticky cookie)
    alias: str | None = None  # one replica for the whole scope, so a page reads one snapshot


_SCOPE: ContextVar[_Scope | None] = ContextVar("siyu_replica_scope", default=None)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "SIYU_REPLICA_ALIASES", None) or [])


def _is_read(sql: Any) -> bool:
    return isinstance(sql, str) and sql.lstrip()[:10].upper().startswith(_READ_PREFIXES)


def _note_write(execute: Callable, sql: Any, params: Any, many: bool, context: dict) -> Any:
    """An execute wrapper on the primary's connection: remember that the scope wrote (before the
    statement runs, so even a failed write keeps the caller on the primary)."""
    if not _is_read(sql):
        scope = _SCOPE.get()
        if scope is not None:
            scope.wrote = True
    return execute(sql, params, many, context)


@contextmanager
def _scope_entered(scope: _Scope) -> Iterator[_Scope]:
    """Make `scope` the current one and watch the primary's connection for writes while it is."""
    token = _SCOPE.set(scope)
    try:
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(_note_write):
            yield scope
    finally:
        _SCOPE.reset(token)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block may go to a replica (see the module docstring for when they still do not).
    Also a decorator: `@replica_reads()`. Without replicas configured it does nothing."""
    if not replica_aliases():
        yield
        return
    with ExitStack() as stack:
        scope = _SCOPE.get()
        if scope is None:  # a task, a CLI command or a request without the middleware
            scope = stack.enter_context(_scope_entered(_Scope()))
        previous, scope.replica_ok = scope.replica_ok, True
        try:
            yield
        finally:
            scope.replica_ok = previous


def replica_reads_iter(items: Iterable[T]) -> Iterator[T]:
    """`items` consumed with replica reads allowed, for a streamed response whose rows are read after
    the view (and the request's scope) has returned. Whether the request had written is decided now,
    while the view runs; every chunk then reads from the same replica."""
    if not replica_aliases():
        return iter(items)
    current = _SCOPE.get()
    scope = _Scope(replica_ok=True, pinned=bool(current and (current.wrote or current.pinned)))
    scope.alias = current.alias if current else None

    def stream() -> Iterator[T]:
        iterator = iter(items)
        while True:
            with _scope_entered(scope):
                try:
                    item = next(iterator)
                except StopIteration:
                    return
            yield item

    return stream()


def _replica_for_read() -> str | None:
    scope = _SCOPE.get()
    if scope is None or not scope.replica_ok or scope.wrote or scope.pinned:
        return None
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return None
    aliases = replica_aliases()
    if not aliases:
        return None
    if scope.alias not in aliases:
        scope.alias = random.choice(aliases)  # noqa: S311 - spreading load, not a secret
    return scope.alias


class ReplicaRouter:
    """DATABASE_ROUTERS entry. Writes always go to the primary; reads go where `_replica_for_read`
    says. Answering "default" explicitly (rather than None) keeps an object read from a replica
    from pulling its related objects, read later outside the block, from that replica too."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return _replica_for_read() or DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # A replica holds the primary's rows: an object read there may be related to one read here.
        ours = {DEFAULT_DB_ALIAS, *replica_aliases()}
        return True if {obj1._state.db, obj2._state.db} <= ours else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return False if db in replica_aliases() else None


class ReadYourWritesMiddleware:
    """Per request: track writes, and keep a caller who wrote on the primary for a short while.

    A request that wrote answers with a signed, timestamped cookie; for SIYU_REPLICA_STICKY_SECONDS
    after it, that browser's requests read only the primary, so replication lag never shows a
    seller their own change undone. The signature carries the time, so the window cannot be
    stretched by a client that keeps the cookie. API clients that keep no cookies read a list a
    moment old at worst: only list and report endpoints opt in to replicas. Put it before the
    session middleware so a session saved on the way out counts as a write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not replica_aliases():
            return self.get_response(request)
        with _scope_entered(_Scope(pinned=self._wrote_recently(request))) as scope:
            response = self.get_response(request)
        if scope.wrote:  # the window starts again from this request's write
            self._stick(response)
        return response

    @staticmethod
    def _seconds() -> int:
        return int(getattr(settings, "SIYU_REPLICA_STICKY_SECONDS", 10))

    def _wrote_recently(self, request: HttpRequest) -> bool:
        try:
            value = request.get_signed_cookie(STICKY_COOKIE, default=None, salt=_SALT, max_age=self._seconds())
        except BadSignature:
            return False
        return value is not None

    def _stick(self, response: HttpResponseBase) -> None:
        response.set_signed_cookie(
            STICKY_COOKIE,
            "1",
            salt=_SALT,
            max_age=self._seconds(),
            httponly=True,
            samesite="Lax",
            secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        )
