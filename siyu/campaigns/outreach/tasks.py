"""Worker tasks: prepare and send one campaign; a sweep each minute starts due campaigns and
resumes any whose worker stopped (or whose retries are due)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .prepare import campaign_prepare_run
from .selectors import campaigns_to_resume
from .sending import campaign_send_run


@db_task()
def campaign_prepare_task(campaign_id: int) -> None:
    campaign_prepare_run(campaign_id=campaign_id)  # queues the sending when it hands over


@db_task()
def campaign_send_task(campaign_id: int) -> str:
    return campaign_send_run(campaign_id=campaign_id)


@db_periodic_task(crontab(minute="*"))
def campaigns_sweep() -> int:
    prepare, send = campaigns_to_resume()
    for pk in prepare:
        campaign_prepare_task(pk)
    for pk in send:
        campaign_send_task(pk)
    return len(prepare) + len(send)
