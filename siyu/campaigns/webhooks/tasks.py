"""Worker tasks: one per delivery, a sweep every minute for retries and lost enqueues, a daily purge."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .delivery import deliveries_purge, deliveries_sweep, delivery_attempt
from .notices import owners_tell_disabled


@db_task()
def webhook_deliver(delivery_id: int) -> str:
    # No huey retries: a failed try is rescheduled in the row (next_attempt_at) and the sweep sends it.
    return delivery_attempt(delivery_id=delivery_id)


@db_task(retries=3, retry_delay=60)
def webhook_disabled_mail(endpoint_id: int) -> int:
    return owners_tell_disabled(endpoint_id=endpoint_id)


@db_periodic_task(crontab(minute="*"))
def webhooks_sweep() -> int:
    return deliveries_sweep()


@db_periodic_task(crontab(hour="20", minute="10"))  # 04:10 in China (UTC+8)
def webhooks_purge() -> int:
    return deliveries_purge()
