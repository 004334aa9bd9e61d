"""The referrals domain's periodic work (huey discovers tasks.py modules)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .rewards import referral_rewards_grant_due as _grant_due


@db_periodic_task(crontab(minute="20"))
def referral_rewards_grant_due() -> int:
    """Every hour: grant the referral rewards whose return window has ended."""
    return _grant_due()
