from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .lifecycle import orders_auto_confirm_due, orders_expire_due


@db_periodic_task(crontab(minute="*"))
def orders_expire() -> int:
    """Cancel unpaid orders past their deadline and release their stock."""
    return orders_expire_due()


@db_periodic_task(crontab(minute="7"))
def orders_auto_confirm() -> int:
    return orders_auto_confirm_due()
