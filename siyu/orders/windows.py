"""How long after receipt a refund can still happen: the one rule that money paid out on an order
(promoter commission, referral rewards) waits for.

A shopper may ask for a no-reason return for SIYU_NO_REASON_RETURN_DAYS and make a quality claim
(quality, wrong item) for SIYU_QUALITY_CLAIM_DAYS, both counted from the day after receipt
(the after-sale policy check in orders.aftersales). Anything else asked after receipt falls under the no-reason window;
exchanges move no money; unshipped units and "not received" are refunded before receipt. So the
last day a refund can be asked for is the receipt day plus the longer of the two windows. Money
released any earlier could be taken back by a refund after it has been withdrawn or spent.

A request made on the last day may be refunded later: the services that release money also wait
for open after-sales to finish.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def refund_window_days() -> int:
    """Days after the receipt day on which some after-sale can still ask for money back."""
    return max(int(settings.SIYU_NO_REASON_RETURN_DAYS), int(settings.SIYU_QUALITY_CLAIM_DAYS))


def refund_last_day(*, received_at: datetime) -> date:
    """The last local day on which a refund can be asked for, for an order received at `received_at`."""
    return timezone.localdate(received_at) + timedelta(days=refund_window_days())


def refund_window_end(*, received_at: datetime, extra_days: int = 0) -> datetime:
    """The first moment (local midnight) after the last refund day, plus `extra_days` whole days
    (a freeze period)."""
    day = refund_last_day(received_at=received_at) + timedelta(days=1 + int(extra_days))
    return timezone.make_aware(datetime.combine(day, time.min))
