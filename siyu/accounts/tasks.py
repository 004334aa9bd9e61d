from datetime import timedelta

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, task

from .models import OtpChallenge
from .sms import sms_send


@task(retries=3, retry_delay=10)
def sms_deliver(phone: str, text: str) -> None:
    sms_send(phone=phone, text=text)


@db_periodic_task(crontab(minute="17"))
def otp_purge_expired() -> int:
    deleted, _ = OtpChallenge.objects.filter(created_at__lt=timezone.now() - timedelta(days=1)).delete()
    return deleted
