"""Who is due for a journey now: one finder per kind, each reading in keyset batches.

A finder yields lists of `Due(customer_id, occasion, detail)`, at most BATCH at a time, each list
from one short query (no cursor or transaction stays open over the whole set). The occasion is
what makes an enrolment unique with the journey and the customer, so it must name the moment
exactly and stay the same on every run that sees it:
  welcome         "joined"                          once per customer
  second_order    "first:<first order, unix time>"  first order at least `delay` old, no second since
  winback         "lapse:<last order date>"         at risk or dormant now; a new lapse after a new order
  birthday        "birthday:<year>"                 from midnight of the birthday + delay
  abandoned_cart  "cart:<date of the last line>"    the cart untouched `delay` hours, no order since
  repurchase      "rp:<product id>:<unix time>"     siyu.customers.reminders' due date, per last purchase

Only customers who agreed to marketing messages (and are not anonymised) are found, so the
held-out and the messaged are drawn from the same people the channel may reach. Moments from
before the journey was switched on (less GRACE) are not caught up, except win-back, whose whole
point is the customers already lapsing.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from siyu.customers.models import Customer, Lifecycle
from siyu.customers.reminders import LEAD_DAYS, repurchase_due_purchases, repurchase_products
from siyu.orders.models import CartLine, Order

from .models import Journey, JourneyKind

BATCH = 1000
GRACE = timedelta(days=1)
WINBACK_STAGES = (Lifecycle.AT_RISK, Lifecycle.DORMANT)


@dataclass(frozen=True)
class Due:
    customer_id: int
    occasion: str
    detail: str = ""


def reachable(shop_id: int) -> QuerySet[Customer]:
    return Customer.objects.filter(shop_id=shop_id, marketing_consent_at__isnull=False, anonymized_at__isnull=True)


def floor(journey: Journey, now: datetime) -> datetime:
    """The earliest moment a run still catches up."""
    return (journey.active_since or now) - GRACE


def _by_customer(rows: QuerySet[Customer, Any], make) -> Iterator[list[Due]]:
    """Keyset batches over customers (by id); `make(row)` turns a values() row into a Due."""
    cursor = 0
    while True:
        batch = list(rows.filter(pk__gt=cursor).order_by("pk")[:BATCH])
        if not batch:
            return
        cursor = batch[-1]["pk"]
        yield [make(row) for row in batch]
        if len(batch) < BATCH:
            return


def _stamp(at: datetime) -> int:
    return int(at.timestamp())


def welcome(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    delay = timedelta(hours=journey.delay_hours)
    rows = reachable(journey.shop_id).filter(created_at__gte=floor(journey, now) - delay, created_at__lte=now - delay)
    return _by_customer(rows.values("pk"), lambda r: Due(r["pk"], "joined"))


def second_order(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    delay = timedelta(hours=journey.delay_hours)
    rows = reachable(journey.shop_id).filter(
        order_count=1, first_order_at__gte=floor(journey, now) - delay, first_order_at__lte=now - delay
    )
    return _by_customer(
        rows.values("pk", "first_order_at"), lambda r: Due(r["pk"], f"first:{_stamp(r['first_order_at'])}")
    )


def winback(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    rows = reachable(journey.shop_id).filter(lifecycle__in=WINBACK_STAGES, last_order_at__isnull=False)
    return _by_customer(
        rows.values("pk", "last_order_at"),
        lambda r: Due(r["pk"], f"lapse:{timezone.localdate(r['last_order_at']).isoformat()}"),
    )


def birthday_days(journey: Journey, now: datetime) -> list[date]:
    """The birthdays whose moment (local midnight + delay) has come since the floor, oldest first."""
    delay = timedelta(hours=journey.delay_hours)
    first = timezone.localdate(max(floor(journey, now), now - timedelta(days=3)) - delay)
    last = timezone.localdate(now - delay)
    days = []
    while first <= last:
        moment = timezone.make_aware(datetime.combine(first, datetime.min.time())) + delay
        if moment >= floor(journey, now):
            days.append(first)
        first += timedelta(days=1)
    return days


def _born_on(day: date) -> Q:
    match = Q(birthday__month=day.month, birthday__day=day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        match |= Q(birthday__month=2, birthday__day=29)  # 29 February celebrates on the 28th
    return match


def birthday(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    for day in birthday_days(journey, now):
        rows = reachable(journey.shop_id).filter(_born_on(day))
        yield from _by_customer(rows.values("pk"), lambda r, year=day.year: Due(r["pk"], f"birthday:{year}"))


def abandoned_cart(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    """Shoppers whose newest cart line is `delay` hours old (and not older than the floor) and who
    placed no order since it was added. Three queries a batch: carts, orders since, customers."""
    delay = timedelta(hours=journey.delay_hours)
    carts = (
        CartLine.objects.filter(shop_id=journey.shop_id)
        .values("shopper_id")
        .annotate(last_added=Max("added_at"), product=Min("sku__product__name"))
        .filter(last_added__gte=floor(journey, now) - delay, last_added__lte=now - delay)
        .order_by("shopper_id")
    )
    cursor = 0
    while True:
        batch = list(carts.filter(shopper_id__gt=cursor)[:BATCH])
        if not batch:
            return
        cursor = batch[-1]["shopper_id"]
        yield _carts_due(journey, batch)
        if len(batch) < BATCH:
            return


def _carts_due(journey: Journey, batch: list[Any]) -> list[Due]:
    shoppers = [c["shopper_id"] for c in batch]
    latest_order = dict(
        Order.objects.filter(
            shop_id=journey.shop_id, shopper_id__in=shoppers, created_at__gte=min(c["last_added"] for c in batch)
        )
        .values("shopper_id")
        .annotate(at=Max("created_at"))
        .values_list("shopper_id", "at")
    )
    customers = dict(reachable(journey.shop_id).filter(shopper_id__in=shoppers).values_list("shopper_id", "pk"))
    return [
        Due(customers[c["shopper_id"]], f"cart:{timezone.localdate(c['last_added']).isoformat()}", c["product"] or "")
        for c in batch
        if c["shopper_id"] in customers and latest_order.get(c["shopper_id"], c["last_added"]) <= c["last_added"]
    ]


def repurchase(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    """Every due last purchase (siyu.customers.reminders' rule), from the floor on."""
    shop = journey.shop
    products = repurchase_products(shop=shop)
    if not products:
        return
    due = repurchase_due_purchases(shop=shop, products=products, lead_days=LEAD_DAYS, now=now)
    start = floor(journey, now)
    after = (0, 0)
    while True:
        keyset = Q(order__shopper_id__gt=after[0]) | Q(order__shopper_id=after[0], product_id__gt=after[1])
        batch = list(due.filter(keyset)[:BATCH])
        if not batch:
            return
        after = (batch[-1][0], batch[-1][1])
        customers = dict(
            reachable(journey.shop_id).filter(shopper_id__in={s for s, _p, _t in batch}).values_list("shopper_id", "pk")
        )
        found = []
        for shopper_id, product_id, last_at in batch:
            name, cycle = products[product_id]
            if shopper_id in customers and last_at + timedelta(days=max(cycle - LEAD_DAYS, 0)) >= start:
                found.append(Due(customers[shopper_id], f"rp:{product_id}:{_stamp(last_at)}", name[:60]))
        yield found
        if len(batch) < BATCH:
            return


FINDERS = {
    JourneyKind.WELCOME: welcome,
    JourneyKind.SECOND_ORDER: second_order,
    JourneyKind.WINBACK: winback,
    JourneyKind.BIRTHDAY: birthday,
    JourneyKind.ABANDONED_CART: abandoned_cart,
    JourneyKind.REPURCHASE: repurchase,
}


def due_now(journey: Journey, now: datetime) -> Iterator[list[Due]]:
    return FINDERS[JourneyKind(journey.kind)](journey, now)
