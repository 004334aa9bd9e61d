"""The Redis cache for the test run with Redis (SIYU_TEST_REDIS_URL, `make test`'s Redis pass).

Several runs share one Redis database (CI's db 15, and a developer's runs beside it), so each test
process keeps its keys under its own prefix and its own queue name, and clearing the cache between
tests deletes only those keys: Django's RedisCache.clear() would FLUSHDB everyone's.
"""

from django.core.cache.backends.redis import RedisCache


class PrefixedRedisCache(RedisCache):
    """RedisCache whose clear() removes this cache's keys only (its KEY_PREFIX)."""

    def clear(self) -> bool:
        client = self._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{self.key_prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
        return True


def redis_test_cleanup() -> None:
    """At the end of a run with Redis: this process's cache keys, sessions and queue are removed."""
    from django.conf import settings
    from django.core.cache import caches

    if not getattr(settings, "SIYU_TEST_REDIS_URL", ""):
        return
    for alias in settings.CACHES:
        caches[alias].clear()
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_all()
