"""Settings shared by every environment. Everything variable comes from the environment.

Embedded default: SQLite (WAL) in SIYU_DATA_DIR, media on local disk, the task queue on
SQLite. Set DATABASE_URL and REDIS_URL to run on PostgreSQL and Redis instead.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url

# The CLV fits (numpy/scipy) make many tiny BLAS calls; OpenBLAS's thread pool costs more than it
# saves there and competes with the web and worker processes. Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .env import env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = env_path("SIYU_DATA_DIR", BASE_DIR / "data")
MEDIA_ROOT = env_path("SIYU_MEDIA_ROOT", BASE_DIR / "media")
STATIC_ROOT = env_path("SIYU_STATIC_ROOT", BASE_DIR / "staticfiles")

SECRET_KEY = env_str("SECRET_KEY", "siyu-insecure-development-key-change-me-0123456789abcdef")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# No django.contrib.admin: nothing registers with it, and an unused sign-in page is only a target.
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",
    "siyu.core",
    "siyu.shops",
    "siyu.accounts",
    "siyu.catalog",
    "siyu.orders",
    "siyu.orders.pickup",
    "siyu.payments",
    "siyu.customers",
    "siyu.referrals",
    "siyu.distribution",
    "siyu.promotions",
    "siyu.promotions.coupons",
    "siyu.promotions.discounts",
    "siyu.promotions.flashsales",
    "siyu.promotions.groupbuys",
    "siyu.promotions.bargains",
    "siyu.community.reviews",
    "siyu.community.groups",
    "siyu.community.content",
    "siyu.community.trials",
    "siyu.campaigns.webhooks",
    "siyu.campaigns.channels",
    "siyu.campaigns.outreach",
    "siyu.campaigns.journeys",
    "siyu.analytics",
    "siyu.storefront",
    "siyu.console",
    "siyu.api",
    "siyu.cli",
]

MIDDLEWARE = [
    "siyu.core.request_id.RequestIdMiddleware",
    "siyu.core.db_router.ReadYourWritesMiddleware",  # before sessions: a session saved counts as a write
    "django.middleware.security.SecurityMiddleware",
    "siyu.core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "siyu.shops.middleware.ShopMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "siyu.storefront.referral_middleware.ReferralMiddleware",
    "siyu.storefront.group_middleware.GroupMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------
DATA_DIR.mkdir(parents=True, exist_ok=True)
_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "siyu.sqlite3"),
            # WAL lets readers run beside the writer; IMMEDIATE avoids lock upgrades mid-transaction.
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The hottest statements (checkout's reads and writes, API sign-in) run as server-side prepared
# statements on PostgreSQL (siyu.core.prepared.execute). Set to false behind a pooler in
# transaction mode that does not keep prepared statements per client (PgBouncer before 1.21).
SIYU_DB_PREPARED_STATEMENTS = env_bool("SIYU_DB_PREPARED_STATEMENTS", True)
# Read replicas (PostgreSQL streaming standbys of DATABASE_URL), comma-separated. List pages,
# analytics, exports and the worker's reports read from them (siyu.core.db_router.replica_reads);
# a caller who wrote stays on the primary for SIYU_REPLICA_STICKY_SECONDS. Never migrated.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
SIYU_REPLICA_ALIASES: list[str] = []
for _number, _replica_url in enumerate(DATABASE_REPLICA_URLS, start=1):
    DATABASES[f"replica{_number}"] = {
        **dj_database_url.parse(_replica_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)),
        "TEST": {"MIRROR": "default"},  # a test run never creates a database of its own there
    }
    SIYU_REPLICA_ALIASES.append(f"replica{_number}")
SIYU_REPLICA_STICKY_SECONDS = env_int("SIYU_REPLICA_STICKY_SECONDS", 10)
DATABASE_ROUTERS = ["siyu.core.db_router.ReplicaRouter"]

# --- cache and task queue --------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("SIYU_QUEUE_NAME", "siyu"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": env_int("SIYU_WORKER_THREADS", 4), "worker_type": "thread"},
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "siyu"}}
    HUEY = {
        "huey_class": "siyu.core.queue.SqliteHuey",  # synced like Redis: see that module
        "name": "siyu",
        "filename": str(DATA_DIR / "tasks.sqlite3"),
        "immediate": False,
        "consumer": {"workers": env_int("SIYU_WORKER_THREADS", 2), "worker_type": "thread"},
    }

# Sessions live on the server, so signing out, deactivation, a password change or account
# deletion ends them (a signed cookie would stay valid until it expires). Reads come from a
# cache shared by every app process (Redis, or files in SIYU_DATA_DIR), writes go to the
# database as well, so a session survives a cache restart and a deleted one stays deleted.
SESSION_ENGINE = env_str("SIYU_SESSION_ENGINE", "django.contrib.sessions.backends.cached_db")
SESSION_CACHE_ALIAS = "sessions"
if REDIS_URL:
    CACHES["sessions"] = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
else:
    CACHES["sessions"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(DATA_DIR / "cache" / "sessions"),
        "TIMEOUT": None,  # a session's own expiry decides; the cache only mirrors it
        "OPTIONS": {"MAX_ENTRIES": 20000},
    }
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
LOGIN_URL = "console:login"

# --- i18n -------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "siyu" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# The embedded install serves its own media; a scaled one points MEDIA at object storage.
SIYU_SERVE_MEDIA = env_bool("SIYU_SERVE_MEDIA", True)
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
# The SKU matrix form posts about 7 fields for each of up to 300 SKUs.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2500

# --- Siyu -------------------------------------------------------------------------------
# Webhook URLs that resolve to loopback, private or link-local addresses are refused (SSRF) unless
# this is on; development and tests turn it on so a receiver on this machine can be used.
SIYU_WEBHOOKS_ALLOW_PRIVATE = env_bool("SIYU_WEBHOOKS_ALLOW_PRIVATE", False)
# Where the storefront is reached from outside, for links in messages (tracked links, unsubscribe) when
# a shop has no host of its own, e.g. https://shop.example.com.
SIYU_PUBLIC_URL = env_str("SIYU_PUBLIC_URL")
# The SMS template for marketing messages (one parameter, `content`); empty: marketing SMS is refused.
SIYU_SMS_MARKETING_TEMPLATE = env_str("SIYU_SMS_MARKETING_TEMPLATE")
# Bargain helps allowed per helper and per network address per hour.
SIYU_BARGAIN_HELPS_PER_SHOPPER_HOUR = env_int("SIYU_BARGAIN_HELPS_PER_SHOPPER_HOUR", 10)
SIYU_BARGAIN_HELPS_PER_IP_HOUR = env_int("SIYU_BARGAIN_HELPS_PER_IP_HOUR", 30)
# Pickup write-off: wrong codes a staff member or keeper may type in the window before being refused (429).
SIYU_PICKUP_WRONG_CODES = env_int("SIYU_PICKUP_WRONG_CODES", 10)
SIYU_PICKUP_WRONG_WINDOW_SECONDS = env_int("SIYU_PICKUP_WRONG_WINDOW_SECONDS", 600)
SIYU_SMS_BACKEND = env_str("SIYU_SMS_BACKEND", "siyu.accounts.sms.LogSmsBackend")
# The log backend writes sign-in codes to the log: `check --deploy` refuses it unless this says so.
SIYU_ALLOW_LOG_SMS = env_bool("SIYU_ALLOW_LOG_SMS", False)
SIYU_SMS: dict[str, Any] = {
    "sign_name": env_str("SIYU_SMS_SIGN_NAME"),  # empty: each shop's name signs its messages
    "template": env_str("SIYU_SMS_TEMPLATE"),  # Aliyun template code (SMS_…) or Tencent template id
    "template_params": env_list("SIYU_SMS_TEMPLATE_PARAMS", "code"),  # of: code, minutes
    "aliyun_access_key_id": env_str("SIYU_ALIYUN_ACCESS_KEY_ID"),
    "aliyun_access_key_secret": env_str("SIYU_ALIYUN_ACCESS_KEY_SECRET"),
    "aliyun_region": env_str("SIYU_ALIYUN_SMS_REGION", "cn-hangzhou"),
    "aliyun_endpoint": env_str("SIYU_ALIYUN_SMS_ENDPOINT", "dysmsapi.aliyuncs.com"),
    "tencent_secret_id": env_str("SIYU_TENCENT_SECRET_ID"),
    "tencent_secret_key": env_str("SIYU_TENCENT_SECRET_KEY"),
    "tencent_app_id": env_str("SIYU_TENCENT_SMS_APP_ID"),
    "tencent_region": env_str("SIYU_TENCENT_SMS_REGION", "ap-guangzhou"),
}
# Staff password sign-in: failures allowed per account and per address in one window.
SIYU_SIGNIN_WINDOW_SECONDS = env_int("SIYU_SIGNIN_WINDOW_SECONDS", 15 * 60)
SIYU_SIGNIN_MAX_PER_ACCOUNT = env_int("SIYU_SIGNIN_MAX_PER_ACCOUNT", 10)
SIYU_SIGNIN_MAX_PER_ADDRESS = env_int("SIYU_SIGNIN_MAX_PER_ADDRESS", 30)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
SIYU_TRUSTED_PROXIES = env_int("SIYU_TRUSTED_PROXIES", 0)
SIYU_OTP_TTL_SECONDS = env_int("SIYU_OTP_TTL_SECONDS", 300)
SIYU_OTP_MAX_PER_PHONE_HOUR = env_int("SIYU_OTP_MAX_PER_PHONE_HOUR", 5)
SIYU_OTP_MAX_PER_IP_HOUR = env_int("SIYU_OTP_MAX_PER_IP_HOUR", 20)
SIYU_OTP_MAX_ATTEMPTS = env_int("SIYU_OTP_MAX_ATTEMPTS", 5)
# Key for personal data at rest (phones, addresses). Defaults to one derived from SECRET_KEY.
SIYU_DATA_KEY = env_str("SIYU_DATA_KEY")
SIYU_POSTER_FONT = env_str("SIYU_POSTER_FONT")
SIYU_SHOP_CACHE_SECONDS = env_int("SIYU_SHOP_CACHE_SECONDS", 30)
SIYU_ORDER_PAY_MINUTES = env_int("SIYU_ORDER_PAY_MINUTES", 30)
SIYU_AUTO_CONFIRM_DAYS = env_int("SIYU_AUTO_CONFIRM_DAYS", 10)
SIYU_NO_REASON_RETURN_DAYS = 7
# Payments. The sandbox is a local stand-in (on by default, off in production unless asked for).
SIYU_SANDBOX_PAYMENTS = env_bool("SIYU_SANDBOX_PAYMENTS", True)


def _provider_config(prefix: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """SIYU_WECHATPAY_MCHID=… → {"mchid": …}; PEM keys may be given as *_FILE paths instead.
    A provider is on only when all its required values are set."""
    config = {}
    for key in required + optional:
        value = env_str(f"{prefix}_{key.upper()}")
        path = env_str(f"{prefix}_{key.upper()}_FILE")
        if path:
            value = Path(path).read_text()
        if value:
            config[key] = value
    return config if all(k in config for k in required) else {}


SIYU_WECHATPAY = _provider_config(
    "SIYU_WECHATPAY",
    ("mchid", "appid", "private_key", "cert_serial_no", "apiv3_key", "public_key", "public_key_id"),
    ("notify_url",),
)
SIYU_ALIPAY = _provider_config(
    "SIYU_ALIPAY", ("app_id", "private_key", "alipay_public_key"), ("seller_id", "notify_url")
)
SIYU_QUALITY_CLAIM_DAYS = env_int("SIYU_QUALITY_CLAIM_DAYS", 30)
# Public traceability scan pages: per client address; a repeat of the same code soon after is not counted.
SIYU_TRACE_SCANS_PER_MINUTE = env_int("SIYU_TRACE_SCANS_PER_MINUTE", 30)
SIYU_TRACE_SCANS_PER_HOUR = env_int("SIYU_TRACE_SCANS_PER_HOUR", 300)
SIYU_TRACE_REPEAT_SECONDS = env_int("SIYU_TRACE_REPEAT_SECONDS", 600)

# Every line carries the request id (also in the X-Request-ID header and in API error bodies).
# django.request is where Django reports each 500 with its traceback; without a handler of its own
# it only reaches mail_admins, i.e. nowhere, in production.
_ROUTINE_LOG_LEVEL = "DEBUG" if env_str("SIYU_LOG_LEVEL", "INFO") == "DEBUG" else "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "siyu.core.request_id.RequestIdFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {
        "console": {"class": "siyu.core.logs.TerminalHandler", "formatter": "plain", "filters": ["request_id"]}
    },
    "loggers": {
        "siyu": {"handlers": ["console"], "level": env_str("SIYU_LOG_LEVEL", "INFO")},
        # The worker's per-task lines ("Executing …", "… executed in", "Enqueueing periodic task")
        # bury the sign-in code in `make run`'s terminal: shown only at SIYU_LOG_LEVEL=DEBUG.
        "huey": {"handlers": ["console"], "level": _ROUTINE_LOG_LEVEL},
        "huey.consumer": {"level": "INFO"},  # started / stopping stay visible
        "huey.consumer.Scheduler": {"level": _ROUTINE_LOG_LEVEL},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
