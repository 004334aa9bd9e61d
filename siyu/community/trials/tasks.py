"""The trials' periodic work (huey discovers tasks.py modules)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from siyu.customers.tasks import _hour
from siyu.shops.models import Shop

from .reports import report_reminders_run


@db_periodic_task(crontab(hour=_hour(9), minute="40"))
def trial_report_reminders_daily() -> int:
    """Staff follow-ups for overdue trial reports, each morning. Returns how many were made."""
    made = 0
    for shop in Shop.objects.order_by("pk").iterator():
        made += report_reminders_run(shop=shop)
    return made
