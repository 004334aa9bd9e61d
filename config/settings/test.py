"""Tests: SQLite by default, PostgreSQL when SIYU_TEST_DATABASE_URL is set; the cache, sessions and
task queue in local memory, or on Redis when SIYU_TEST_REDIS_URL is set."""

import os
import tempfile
from pathlib import Path

import dj_database_url

from .base import *  # noqa: F403
from .base import HUEY
from .env import env_str

# A receiver on this machine serves the webhook tests; the SSRF tests turn this off.
SIYU_WEBHOOKS_ALLOW_PRIVATE = True

_tmp = Path(tempfile.mkdtemp(prefix="siyu-test-"))
MEDIA_ROOT = _tmp / "media"
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir()
_test_db = env_str("SIYU_TEST_DATABASE_URL")
if _test_db:
    DATABASES = {"default": dj_database_url.parse(_test_db)}
    DATABASES["default"]["TEST"] = {"NAME": env_str("SIYU_TEST_DATABASE_NAME", "test_siyu")}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_tmp / "test.sqlite3"),
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            "TEST": {"NAME": str(_tmp / "test.sqlite3")},
        }
    }
# The router's tests turn replicas on with SIYU_REPLICA_ALIASES=["replica"]; the rest of the suite
# reads the primary only. "replica" mirrors the test database (no database is created for it): a
# second connection to the same one, or — with SIYU_TEST_REPLICA_URL (.ci/replica.sh) on a PostgreSQL
# run — a connection to the same database name on the streaming standby, which copies it.
_test_replica = env_str("SIYU_TEST_REPLICA_URL")
_replica: dict = dict(DATABASES["default"])
if _test_db and _test_replica:
    _replica = dict(dj_database_url.parse(_test_replica))
DATABASES["replica"] = {**_replica, "TEST": {"MIRROR": "default"}}
SIYU_REPLICA_ALIASES = []  # noqa: F811 (base.py reads DATABASE_REPLICA_URLS; tests turn replicas on per test)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "siyu-test"},
    # One test process: a local-memory mirror behaves as the shared file or Redis cache does.
    "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "siyu-test-sessions"},
}
HUEY = {**HUEY, "huey_class": "huey.MemoryHuey", "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SIYU_SHOP_CACHE_SECONDS = 0

# With SIYU_TEST_REDIS_URL (`make test`'s Redis pass) the cache, the sessions' cache and the task queue
# are on Redis, as in a scaled deployment; tasks still run at once, in the test, but are serialised
# through Redis storage (immediate_use_memory off). Keys and queue carry this process's id, because
# several runs may share one Redis database; PrefixedRedisCache.clear() removes only its own keys.
SIYU_TEST_REDIS_URL = env_str("SIYU_TEST_REDIS_URL")
if SIYU_TEST_REDIS_URL:
    _prefix = f"siyu-test-{os.getpid()}"
    _redis = {"BACKEND": "tests.scale.redis_cache.PrefixedRedisCache", "LOCATION": SIYU_TEST_REDIS_URL}
    CACHES = {
        "default": {**_redis, "KEY_PREFIX": _prefix},
        "sessions": {**_redis, "KEY_PREFIX": _prefix + "-sessions"},
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": _prefix,
        "url": SIYU_TEST_REDIS_URL,
        "immediate": True,
        "immediate_use_memory": False,
    }
