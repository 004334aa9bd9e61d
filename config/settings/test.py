"""Tests: SQLite by default, PostgreSQL when SIYU_TEST_DATABASE_URL is set."""

import tempfile
from pathlib import Path

import dj_database_url

from .base import *  # noqa: F403
from .base import HUEY
from .env import env_str

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
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "siyu-test"},
    # One test process: a local-memory mirror behaves as the shared file or Redis cache does.
    "sessions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "siyu-test-sessions"},
}
HUEY = {**HUEY, "huey_class": "huey.MemoryHuey", "immediate": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SIYU_SHOP_CACHE_SECONDS = 0
