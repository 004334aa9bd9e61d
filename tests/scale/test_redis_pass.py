"""The Redis pass really is on Redis: cache, sessions and task queue (SIYU_TEST_REDIS_URL set)."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache, caches

REDIS_URL = os.environ.get("SIYU_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="SIYU_TEST_REDIS_URL is not set (make test's Redis pass)")


def _raw():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def test_cache_and_sessions_are_in_redis_under_this_run_s_prefix():
    cache.set("redis-pass-probe", 41)
    assert cache.incr("redis-pass-probe") == 42
    caches["sessions"].set("probe", "x")
    raw = _raw()
    default_prefix = settings.CACHES["default"]["KEY_PREFIX"]
    assert raw.exists(f"{default_prefix}:1:redis-pass-probe")
    assert raw.exists(f"{settings.CACHES['sessions']['KEY_PREFIX']}:1:probe")
    raw.set("someone-else:1:key", "kept")
    try:
        cache.clear()  # ours only: another run on the same Redis database keeps its keys
        assert not raw.exists(f"{default_prefix}:1:redis-pass-probe")
        assert raw.get("someone-else:1:key") == b"kept"
    finally:
        raw.delete("someone-else:1:key")


def test_tasks_go_through_redis_storage():
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    assert isinstance(HUEY.storage, RedisStorage) and HUEY.immediate

    @HUEY.task()
    def add(a, b):
        return a + b

    result = add(2, 3)
    assert result.get() == 5  # the result was written to Redis and read back from it
