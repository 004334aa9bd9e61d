"""The SQLite task queue (used without Redis) commits without an fsync per enqueue, and still works."""

from huey.api import Task

from siyu.core.queue import SqliteHuey


def test_sqlite_queue_is_wal_with_normal_sync_and_round_trips(tmp_path):
    huey = SqliteHuey("t", filename=str(tmp_path / "tasks.sqlite3"))
    conn = huey.storage.conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL; huey's own default is FULL (2)

    @huey.task()
    def add(a, b):
        return a + b

    add(2, 3)
    assert huey.pending_count() == 1
    task = huey.dequeue()
    assert isinstance(task, Task)
    assert huey.execute(task) == 5
    assert huey.pending_count() == 0
