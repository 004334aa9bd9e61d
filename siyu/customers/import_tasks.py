"""The worker's half of a console upload: import_start stores the file and enqueues this."""

from huey.contrib.djhuey import db_task

from .importer import import_job_execute


@db_task(retries=0)
def import_job_run(job_id: int) -> dict:
    # No retries: a half-finished run is already committed batch by batch, and a re-run would only
    # find the job no longer pending.
    job = import_job_execute(job_id=job_id)
    return {"job": job.pk, "status": job.status}
