from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .campaigns import live_campaigns_refresh_all
from .services import slots_release_expired


@db_periodic_task(crontab(minute="*/5"))
def bargain_slots_release() -> int:
    """Campaign slots of bargains whose deadline passed unbought go back to the campaign."""
    return slots_release_expired()


@db_periodic_task(crontab(minute="*/5"))
def bargain_live_campaigns_refresh() -> int:
    """Keep every shop's live campaigns in the cache (the storefront panels read only the cache)."""
    return live_campaigns_refresh_all()
