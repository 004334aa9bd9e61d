"""Periodic distribution work: settle commissions that are due, scan for trust flags."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from siyu.core.db_router import replica_reads

from .commissions_bulk import commissions_settle_due
from .flags import flags_scan_all


@db_periodic_task(crontab(minute="15"))
def commissions_settle_hourly() -> int:
    """Frozen → available for every commission past receipt + return window + freeze."""
    return commissions_settle_due()


@db_periodic_task(crontab(hour="19", minute="40"))  # 03:40 in China (UTC+8)
@replica_reads()  # a 30-day scan: its aggregates may read a replica; a flag raised is written to the primary
def promoter_flags_daily() -> int:
    return flags_scan_all()
