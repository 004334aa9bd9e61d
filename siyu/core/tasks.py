from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .events import event_dispatch, events_pending


@db_task(retries=5, retry_delay=5)
def outbox_dispatch(event_id: int) -> bool:
    return event_dispatch(event_id=event_id)


@db_periodic_task(crontab(minute="*"))
def outbox_sweep() -> int:
    """Deliver events whose enqueue was lost or whose handlers failed."""
    return sum(event_dispatch(event_id=pk) for pk in events_pending())
