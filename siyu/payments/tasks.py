import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .providers.sandbox import sandbox_notification
from .services import payment_notify, payments_reconcile, refund_execute

logger = logging.getLogger("siyu.payments")


@db_task(retries=5, retry_delay=30)
def refund_run(refund_id: int) -> str:
    return refund_execute(refund_id=refund_id)


@db_task(retries=3, retry_delay=5)
def sandbox_deliver(out_trade_no: str, amount: int, txn_id: str) -> str:
    """The sandbox 'bank' calling back: a signed notification through the same path as real ones."""
    headers, body = sandbox_notification(out_trade_no=out_trade_no, amount=amount, txn_id=txn_id)
    return payment_notify(provider="sandbox", headers=headers, body=body)


@db_periodic_task(crontab(minute="*/5"))
def payments_reconcile_task() -> dict:
    return payments_reconcile()
