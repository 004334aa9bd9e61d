from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import flash_sessions_end_due


@db_periodic_task(crontab(minute="*"))
def flash_sessions_end() -> int:
    """Sessions whose time is up give what is left of their flash stock back to the SKUs (once)."""
    return flash_sessions_end_due()
