"""The worker's coupon work: segment pushes, daily birthday coupons and expiry."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from siyu.shops.models import Shop

from .grants import coupon_push_run, grants_for_birthdays
from .services import grants_expire_due


@db_task(retries=2, retry_delay=30)
def coupon_push_task(push_id: int) -> dict:
    push = coupon_push_run(push_id=push_id)
    return {"push": push_id, "status": push.status if push else None}


@db_periodic_task(crontab(hour="1", minute="5"))
def coupons_daily() -> dict:
    """Birthday coupons for every shop, then expiry of grants past their end."""
    made = sum(grants_for_birthdays(shop_id=pk) for pk in Shop.objects.order_by("pk").values_list("pk", flat=True))
    return {"birthday": made, "expired": grants_expire_due()}
