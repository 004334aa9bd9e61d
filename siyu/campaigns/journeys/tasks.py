"""Worker tasks: every five minutes each active journey enrols who is due and sends what is due
(retries included). A new customer is welcomed without waiting for the sweep when the welcome
journey has no delay (siyu/campaigns/journeys/handlers.py queues the run)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .engine import journey_run, journeys_active


@db_task()
def journey_run_task(journey_id: int) -> dict:
    return journey_run(journey_id=journey_id)


@db_periodic_task(crontab(minute="*/5"))
def journeys_sweep() -> int:
    ids = journeys_active()
    for pk in ids:
        journey_run_task(pk)
    return len(ids)
