"""Each trigger finds exactly the customers it should, once per occasion."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from siyu.campaigns.journeys.enrol import journey_enrol_due
from siyu.campaigns.journeys.models import JourneyEnrolment
from siyu.campaigns.journeys.triggers import birthday_days
from siyu.customers.models import Lifecycle
from siyu.orders.models import CartLine
from tests.customers.test_segments import paid_order
from tests.factories import make_product

from .conftest import journey, person

pytestmark = pytest.mark.django_db
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def enrolled(j) -> set[tuple[int, str]]:
    return set(JourneyEnrolment.objects.filter(journey=j).values_list("customer_id", "occasion"))


def test_welcome_new_consenting_customers_after_the_delay(owner, shop, other_shop):
    j = journey(owner, shop, "welcome", delay_hours=2, active_since=timezone.now() - 3 * DAY)
    due = person(shop, created_ago=3 * HOUR)
    person(shop, created_ago=HOUR)  # not two hours yet
    person(shop, created_ago=10 * DAY)  # joined long before the journey was switched on
    person(shop, created_ago=3 * HOUR, consent=False)
    person(other_shop, created_ago=3 * HOUR)
    assert journey_enrol_due(journey=j) == 1
    assert enrolled(j) == {(due.pk, "joined")}
    assert journey_enrol_due(journey=j) == 0


def test_second_order_nudge_after_a_first_order_without_a_second(owner, shop):
    j = journey(owner, shop, "second_order", delay_hours=14 * 24, active_since=timezone.now() - 30 * DAY)
    first = timezone.now() - 15 * DAY
    due = person(shop, order_count=1, first_order_at=first, last_order_at=first)
    person(shop, order_count=2, first_order_at=first, last_order_at=timezone.now() - DAY)  # came back
    person(shop, order_count=1, first_order_at=timezone.now() - 10 * DAY)  # too early
    person(shop, order_count=1, first_order_at=timezone.now() - 60 * DAY)  # before the journey
    person(shop, order_count=0)
    assert journey_enrol_due(journey=j) == 1
    assert enrolled(j) == {(due.pk, f"first:{int(first.timestamp())}")}


def test_winback_at_risk_and_dormant_once_per_lapse(owner, shop):
    j = journey(owner, shop, "winback")
    last = timezone.now() - 100 * DAY
    at_risk = person(shop, lifecycle=Lifecycle.AT_RISK, order_count=2, last_order_at=last)
    dormant = person(shop, lifecycle=Lifecycle.DORMANT, order_count=1, last_order_at=last - 100 * DAY)
    person(shop, lifecycle=Lifecycle.ACTIVE, order_count=3, last_order_at=timezone.now() - DAY)
    person(shop, lifecycle=Lifecycle.LOST, order_count=1, last_order_at=last - 400 * DAY)
    person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=last, consent=False)
    assert journey_enrol_due(journey=j) == 2
    assert {c for c, _o in enrolled(j)} == {at_risk.pk, dormant.pk}
    assert journey_enrol_due(journey=j) == 0
    # bought again and lapsed again: a new occasion
    at_risk.last_order_at = last + 10 * DAY
    at_risk.save()
    assert journey_enrol_due(journey=j) == 1
    assert JourneyEnrolment.objects.filter(journey=j, customer=at_risk).count() == 2


def test_birthday_on_the_day_once_a_year(owner, shop):
    at = timezone.make_aware(datetime(2027, 6, 15, 8, 0))
    j = journey(owner, shop, "birthday", active_since=at - 5 * DAY)
    due = person(shop, birthday=date(1990, 6, 15))
    person(shop, birthday=date(1991, 7, 15))
    person(shop, birthday=date(1990, 6, 15), consent=False)
    assert journey_enrol_due(journey=j, now=at) == 1
    assert enrolled(j) == {(due.pk, "birthday:2027")}
    assert journey_enrol_due(journey=j, now=at + 3 * HOUR) == 0
    assert journey_enrol_due(journey=j, now=at.replace(year=2028)) == 1  # next year: a new occasion


def test_birthday_days_with_a_delay_and_the_leap_day(owner, shop):
    j = journey(owner, shop, "birthday", delay_hours=9, active_since=timezone.now() - 5 * DAY)
    at = timezone.make_aware(datetime(2027, 2, 28, 10, 0))
    j.active_since = at - 5 * DAY
    assert birthday_days(j, at)[-1] == date(2027, 2, 28)  # 10:00 is past midnight + 9 hours
    assert birthday_days(j, at - 2 * HOUR)[-1] == date(2027, 2, 27)  # 08:00 is not
    leap = person(shop, birthday=date(2000, 2, 29))
    person(shop, birthday=date(2000, 3, 1))
    j.active_since = at - HOUR
    assert journey_enrol_due(journey=j, now=at) == 1  # 2027 has no 29 February: the 28th
    assert enrolled(j) == {(leap.pk, "birthday:2027")}


def test_abandoned_cart_untouched_for_the_delay_and_no_order_since(owner, shop):
    j = journey(owner, shop, "abandoned_cart", delay_hours=4, active_since=timezone.now() - 3 * DAY)
    tea = make_product(shop, name="龙井")
    due, fresh, bought, silent = (person(shop), person(shop), person(shop), person(shop, consent=False))
    for customer, age in ((due, 5), (fresh, 1), (bought, 6), (silent, 5)):
        line = CartLine.objects.create(shop=shop, shopper=customer.shopper, sku=tea.skus.first())
        CartLine.objects.filter(pk=line.pk).update(added_at=timezone.now() - age * HOUR)
    paid_order(shop, bought.shopper, [tea], paid_at=timezone.now() - HOUR)  # ordered after adding
    assert journey_enrol_due(journey=j) == 1
    row = JourneyEnrolment.objects.get(journey=j)
    assert (row.customer_id, row.detail) == (due.pk, "龙井")
    assert row.occasion == f"cart:{timezone.localdate(timezone.now() - 5 * HOUR).isoformat()}"
    assert journey_enrol_due(journey=j) == 0


def test_repurchase_uses_the_reminders_due_date(owner, shop):
    j = journey(owner, shop, "repurchase", active_since=timezone.now() - 10 * DAY)
    tea = make_product(shop, name="龙井", consumption_cycle_days=30)
    cup = make_product(shop, name="杯子")
    due, early, no_cycle = person(shop), person(shop), person(shop)
    paid = timezone.now() - 28 * DAY  # due from day 27 (30 − 3 lead days)
    paid_order(shop, due.shopper, [tea], paid_at=paid)
    paid_order(shop, early.shopper, [tea], paid_at=timezone.now() - 20 * DAY)
    paid_order(shop, no_cycle.shopper, [cup], paid_at=paid)
    assert journey_enrol_due(journey=j) == 1
    row = JourneyEnrolment.objects.get(journey=j)
    assert (row.customer_id, row.detail) == (due.pk, "龙井")
    assert row.occasion == f"rp:{tea.pk}:{int(paid.timestamp())}"
    assert journey_enrol_due(journey=j) == 0


def test_a_paused_journey_enrols_nobody(owner, shop):
    from siyu.campaigns.journeys.services import journey_pause

    j = journey(owner, shop, "winback")
    person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=timezone.now() - 90 * DAY)
    journey_pause(actor=owner, shop=shop, public_id=j.public_id)
    j.refresh_from_db()
    assert journey_enrol_due(journey=j) == 0
