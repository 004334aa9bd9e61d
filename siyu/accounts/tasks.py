from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, task

from .models import OtpChallenge
from .sms import sms_send


@task(retries=3, retry_delay=10)
def sms_deliver(phone: str, text: str, sign: str = "", params: dict | None = None) -> None:
    sms_send(phone=phone, text=text, sign=sign, params=params)


@db_periodic_task(crontab(minute="17"))
def otp_purge_expired() -> int:
    deleted, _ = OtpChallenge.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    return deleted


@db_periodic_task(crontab(minute="23"))
def sessions_purge_stale() -> int:
    """Expired sessions, index rows of sessions that are gone, and old sign-in failures."""
    from django.conf import settings

    from .sessions import sessions_purge
    from .signin import sign_in_failures_purge

    now = timezone.now()
    sign_in_failures_purge(older_than=now - timedelta(days=1))
    return sessions_purge(older_than=now - timedelta(seconds=settings.SESSION_COOKIE_AGE))
