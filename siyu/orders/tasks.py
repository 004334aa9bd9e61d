from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .exchanges import exchanges_auto_confirm_due, exchanges_retry_waiting
from .lifecycle import orders_auto_confirm_due, orders_expire_due


@db_periodic_task(crontab(minute="*"))
def orders_expire() -> int:
    """Cancel unpaid orders past their deadline and release their stock."""
    return orders_expire_due()


@db_periodic_task(crontab(minute="7"))
def orders_auto_confirm() -> int:
    """Shipped orders, and shipped exchange replacements, count as received after N days."""
    return orders_auto_confirm_due() + exchanges_auto_confirm_due()


@db_periodic_task(crontab(minute="*"))
def exchanges_retry() -> int:
    """Exchanges waiting for stock take their replacement as soon as stock is back (one query when none is)."""
    return exchanges_retry_waiting()
