"""Real threads, each with its own database connection, for the PostgreSQL concurrency tests."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from siyu.core.errors import DomainError


def run_parallel(func, args_list, workers: int | None = None):
    """func(*args) for each args in its own thread and connection, released together by a barrier.

    A DomainError is returned in place of the result (a refusal is an answer); anything else, such
    as an IntegrityError that would be a 500, is raised so the test fails."""
    workers = min(workers or len(args_list), len(args_list))
    barrier = threading.Barrier(workers)

    def call(args):
        try:
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass  # more calls than threads: the later ones start as threads free up
            return func(*args)
        except DomainError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(call, args_list))
