"""The shop-wide commission list: every promoter's commissions, filtered by status, promoter and
the day they accrued, paged like the other console lists. Any staff member of the shop may read
it (the console's distribution pages need customers.view, which every role holds)."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from ninja import Query, Router

from siyu.distribution.promoters import promoter_get
from siyu.distribution.selectors import commissions_for_shop

from .auth import staff_auth
from .commissions_console_schemas import ShopCommissionFilterIn, ShopCommissionPage
from .schemas import ERRORS, page_of

router = Router(tags=["console"], auth=staff_auth)

# Days outside this range mean "no bound" all the same; clamping keeps midnight (and the day after
# `date_to`) inside what datetime and the database can hold, whatever day a client sends.
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9000, 12, 31)


def _midnight(day: date, *, plus_days: int = 0) -> datetime:
    """Midnight in the shop's time zone, so "to 3 May" includes all of 3 May."""
    day = min(max(day, _FIRST_DAY), _LAST_DAY)
    return timezone.make_aware(datetime.combine(day + timedelta(days=plus_days), time.min))


@router.get("/commissions", response={200: ShopCommissionPage, **ERRORS})
def commissions(request, filters: Query[ShopCommissionFilterIn]):
    """Commissions of every promoter, newest first."""
    if filters.promoter is not None:
        promoter_get(shop=request.shop, promoter_id=filters.promoter)  # another shop's promoter: 404
    qs = commissions_for_shop(
        shop=request.shop,
        status=filters.status,
        promoter_id=filters.promoter,
        created_from=_midnight(filters.date_from) if filters.date_from else None,
        created_before=_midnight(filters.date_to, plus_days=1) if filters.date_to else None,
    )
    return page_of(qs, filters)
