"""The task queue's storage when no Redis is configured: huey's SQLite queue, synced like Redis.

huey's SQLite storage leaves SQLite at its default `synchronous=FULL`, so every enqueue (one per
order placed: the outbox hand-off) waits for an fsync while holding the file's write lock, and a
web worker that finds the lock taken sleeps in SQLite's busy handler. Under a checkout rush that
lock, not the database, set the pace. In WAL mode `synchronous=NORMAL` keeps the file consistent
through any crash and loses at most the last enqueues on a power cut, which is what Redis's
default persistence promises too; an outbox event whose hand-off is lost is still found by the
sweep (siyu.core.tasks).
"""

from huey import Huey
from huey.storage import SqliteStorage


class _Storage(SqliteStorage):
    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class SqliteHuey(Huey):
    storage_class = _Storage
