"""The customer pool's nightly work, for every shop.

Scores first, then automatic tags, then segments, because tag and segment rules can use the
lifecycle stage, the RFM scores and (for segments) the tags. Reminders wait until the morning so
customers are not messaged at night and the follow-ups are fresh on the staff's "today" list.
"""

import logging
from datetime import datetime, time

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from siyu.shops.models import Shop

from .import_tasks import import_job_run  # noqa: F401 - huey only discovers tasks.py modules
from .reminders import repurchase_reminders_run
from .rfm import rfm_recompute
from .segments import segments_evaluate_all
from .tags import auto_tags_apply

logger = logging.getLogger("siyu.customers")


def _hour(local_hour: int) -> str:
    """Huey matches crontabs against UTC unless told otherwise; the times here are the shop's
    local night and morning (TIME_ZONE), so shift them once at start-up."""
    if not getattr(settings, "HUEY", {}).get("utc", True):
        return str(local_hour)
    local = timezone.make_aware(datetime.combine(timezone.localdate(), time(local_hour)))
    return str(local.utctimetuple().tm_hour)


def customers_nightly_for_shop(*, shop: Shop) -> dict:
    result = {
        "rfm": rfm_recompute(shop=shop),
        "tags": auto_tags_apply(shop=shop),
        "segments": segments_evaluate_all(shop=shop),
    }
    if result["segments"]["failed"]:
        logger.warning("shop %s: segments with invalid rules skipped: %s", shop.pk, result["segments"]["failed"])
    return result


@db_periodic_task(crontab(hour=_hour(2), minute="30"))
def customers_nightly() -> int:
    """RFM and lifecycle, automatic tags, segment members. Returns the number of shops done."""
    done = 0
    for shop in Shop.objects.order_by("pk").iterator():
        customers_nightly_for_shop(shop=shop)
        done += 1
    return done


@db_periodic_task(crontab(hour=_hour(9), minute="30"))
def repurchase_reminders_daily() -> int:
    """Due repurchase follow-ups and reminders. Returns the number of follow-ups made."""
    made = 0
    for shop in Shop.objects.order_by("pk").iterator():
        made += repurchase_reminders_run(shop=shop)["created"]
    return made


@db_periodic_task(crontab(hour=_hour(3), minute="10"))
def points_expire_daily() -> int:
    """Write off points past their validity."""
    from .points import points_expire_all

    return points_expire_all()
