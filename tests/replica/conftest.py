"""Read-replica tests. "replica" (config/settings/test.py) mirrors the test database: a second
connection to it, or — with SIYU_TEST_REPLICA_URL on the PostgreSQL run — a connection to the same
database on a streaming standby (.ci/replica.sh). The router sends reads there only while
SIYU_REPLICA_ALIASES names it, which the `replicas_on` fixture does for one test."""

import os
import time
from contextlib import contextmanager

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

BOTH = ["default", "replica"]


def real_replica() -> bool:
    return bool(os.environ.get("SIYU_TEST_REPLICA_URL")) and connections["default"].vendor == "postgresql"


def real_replica_skip_reason() -> str:
    if not os.environ.get("SIYU_TEST_REPLICA_URL"):
        return "SIYU_TEST_REPLICA_URL is not set: .ci/replica.sh starts a streaming standby and .ci/run sets it"
    return "a streaming standby needs the PostgreSQL run (SIYU_TEST_DATABASE_URL)"


@pytest.fixture
def replicas_on(settings):
    settings.SIYU_REPLICA_ALIASES = ["replica"]
    settings.SIYU_REPLICA_STICKY_SECONDS = 10


def wait_for_replay(timeout: float = 30.0) -> None:
    """Until the standby has replayed everything the primary has written so far (a no-op when
    "replica" is only a second connection to the same database)."""
    if not real_replica():
        return
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (lsn,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with connections["replica"].cursor() as cursor:
        while True:
            cursor.execute("SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [lsn])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby did not replay up to {lsn} in {timeout}s")
            time.sleep(0.02)


@contextmanager
def replay_paused():
    """The standby stops applying WAL: anything written meanwhile exists only on the primary, so a
    read that finds it came from the primary and one that misses it came from the standby."""
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
        wait_for_replay()


@contextmanager
def queries_on_each():
    """How many queries each connection ran in the block: yields a dict filled in on the way out
    ({"default": n, "replica": n}). Counted at once, because every request empties Django's query
    log and a later request would change what a kept CaptureQueriesContext reports."""
    counts: dict[str, int] = {}
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        yield counts
    counts.update(default=len(primary), replica=len(replica))
