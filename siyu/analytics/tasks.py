"""The analytics worker jobs: the nightly CLV fit for every shop.

It runs before the customer pool's nightly work (02:30 local), so segments and automatic tags that
use the CLV fields are evaluated on the night's fresh figures.
"""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from siyu.customers.tasks import _hour
from siyu.shops.models import Shop

from .clv import clv_fit_all, clv_fit_shop

logger = logging.getLogger("siyu.analytics")


@db_periodic_task(crontab(hour=_hour(1), minute="45"))
def clv_nightly() -> dict:
    """Refit BG/NBD and Gamma-Gamma for every shop; returns how many shops fitted and failed."""
    done = clv_fit_all()
    logger.info("clv nightly: %s", done)
    return done


@db_task()
def clv_fit_task(shop_id: int) -> str:
    """One shop's fit on demand (the console's "Refit now"). Returns the fit's status."""
    shop = Shop.objects.filter(pk=shop_id).first()
    return clv_fit_shop(shop=shop).status if shop is not None else "no_shop"
