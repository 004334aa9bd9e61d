from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .groups import group_member_refund as _refund
from .groups import groups_sweep as _sweep


@db_task(retries=3, retry_delay=60)
def group_member_refund(member_id: int) -> str:
    """A member's full refund, after the transaction that made it due has committed."""
    return _refund(member_id=member_id)


@db_periodic_task(crontab(minute="*"))
def groups_sweep() -> dict:
    """Close groups past their deadline (form with virtual members, or fail and refund)."""
    return _sweep()
