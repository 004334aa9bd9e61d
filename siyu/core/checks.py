"""Django system checks for a deployment: `manage.py check --deploy` reports them.

Only settings are read here (no models, nothing of the higher layers), so the checks run before
the database is reachable. Registered when the apps are ready (see siyu.accounts.apps).
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.utils.module_loading import import_string

# Session stores that keep the session on the server; with any other one (signed cookies) a
# copied cookie keeps working after sign-out and a deactivated account stays signed in.
REVOCABLE_SESSION_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "django.contrib.sessions.backends.cache",
}


@register(Tags.security, deploy=True)
def check_sms_backend(app_configs=None, **kwargs) -> list[Error]:
    path = settings.SIYU_SMS_BACKEND
    try:
        backend = import_string(path)
    except ImportError:
        return [Error(f"SIYU_SMS_BACKEND names {path!r}, which cannot be imported.", id="siyu.E001")]
    if getattr(backend, "writes_codes_to_log", False) and not settings.SIYU_ALLOW_LOG_SMS:
        return [
            Error(
                "SIYU_SMS_BACKEND writes sign-in codes to the log: anyone who reads the log can sign in "
                "as any shopper.",
                hint="Set SIYU_SMS_BACKEND to siyu.accounts.sms.AliyunSmsBackend or "
                "siyu.accounts.sms.TencentSmsBackend (see README, Security), or SIYU_ALLOW_LOG_SMS=1 "
                "for a demo that sends no real messages.",
                id="siyu.E002",
            )
        ]
    missing = [key for key in getattr(backend, "required_settings", ()) if not settings.SIYU_SMS.get(key)]
    if missing:
        names = ", ".join(f"SIYU_SMS[{key!r}]" for key in missing)
        return [Error(f"The SMS backend needs {names}; set them in the environment.", id="siyu.E003")]
    return []


@register(Tags.security, deploy=True)
def check_sessions(app_configs=None, **kwargs) -> list[Error]:
    if settings.SESSION_ENGINE not in REVOCABLE_SESSION_ENGINES:
        return [
            Error(
                f"SESSION_ENGINE {settings.SESSION_ENGINE!r} keeps sessions where they cannot be ended.",
                hint="Leave SIYU_SESSION_ENGINE unset (cached_db) or use db or cache.",
                id="siyu.E004",
            )
        ]
    return []
