"""Repurchase reminders from each product's consumption cycle."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.roles import OPERATOR
from siyu.customers import reminders
from siyu.customers.followups import followup_done, followups_today
from siyu.customers.models import CustomerEvent, FollowUp
from siyu.customers.reminders import repurchase_reminders_run
from tests.factories import make_product, make_shopper, make_staff

from .test_segments import make_customer, paid_order

sent_here: list[tuple[str, str]] = []


class RecordingBackend:
    def send(self, *, customer, text):
        sent_here.append((customer.public_id, text))


@pytest.fixture
def tea(shop):
    return make_product(shop, name="龙井", consumption_cycle_days=30)


@pytest.fixture(autouse=True)
def clean_outbox():
    reminders.outbox.clear()
    sent_here.clear()


def buyer(shop, *, days_ago, products, consent=True, assigned_to=None, **order):
    shopper = make_shopper()
    now = timezone.now()
    customer = make_customer(
        shop, shopper=shopper, assigned_to=assigned_to, marketing_consent_at=now if consent else None
    )
    paid_order(shop, shopper, products, paid_at=now - timedelta(days=days_ago, hours=1), **order)
    return customer


def _open(shop):
    return FollowUp.objects.filter(shop=shop, kind="repurchase", done_at__isnull=True)


def test_due_customers_get_one_task_for_their_staff(shop, tea, operator):
    due = buyer(shop, days_ago=27, products=[tea], assigned_to=operator)  # 30 − 3 lead days
    buyer(shop, days_ago=20, products=[tea])  # not yet
    result = repurchase_reminders_run(shop=shop)
    assert result == {"created": 1, "sent": 1, "no_consent": 0}
    task = _open(shop).get()
    assert (task.customer_id, task.product_id, task.assignee_id) == (due.pk, tea.pk, operator.pk)
    assert task.due_on == timezone.localdate() and "龙井" in task.title
    assert [t.pk for t in followups_today(shop=shop, staff=operator)] == [task.pk]
    assert reminders.outbox == [(due.public_id, reminders.outbox[0][1])] and "龙井" in reminders.outbox[0][1]
    assert CustomerEvent.objects.get(customer=due).kind == "reminder.sent"


def test_only_the_last_purchase_counts(shop, tea):
    shopper = make_shopper()
    customer = make_customer(shop, shopper=shopper)
    now = timezone.now()
    paid_order(shop, shopper, [tea], paid_at=now - timedelta(days=60))
    paid_order(shop, shopper, [tea], paid_at=now - timedelta(days=5))  # bought again since
    assert repurchase_reminders_run(shop=shop)["created"] == 0
    paid_order(shop, shopper, [tea], paid_at=now - timedelta(days=90), status="completed")
    assert not _open(shop).filter(customer=customer).exists()


def test_uncounted_orders_products_without_cycle_and_other_shops(shop, other_shop, tea):
    cup = make_product(shop, name="杯子")  # no cycle
    buyer(shop, days_ago=40, products=[tea], status="cancelled")
    buyer(shop, days_ago=40, products=[tea], status="pending_payment")
    buyer(shop, days_ago=40, products=[tea], refunded=True)
    buyer(shop, days_ago=40, products=[cup])
    their_tea = make_product(other_shop, name="龙井", consumption_cycle_days=30)
    buyer(other_shop, days_ago=40, products=[their_tea])
    assert repurchase_reminders_run(shop=shop) == {"created": 0, "sent": 0, "no_consent": 0}
    assert repurchase_reminders_run(shop=other_shop)["created"] == 1


def test_idempotent_and_once_per_purchase(shop, tea, operator):
    customer = buyer(shop, days_ago=29, products=[tea])
    assert repurchase_reminders_run(shop=shop)["created"] == 1
    assert repurchase_reminders_run(shop=shop) == {"created": 0, "sent": 0, "no_consent": 0}
    followup_done(actor=operator, followup=_open(shop).get())
    # done, but the customer has not bought since: that purchase was reminded of already
    assert repurchase_reminders_run(shop=shop)["created"] == 0
    # a purchase after the reminder starts a new cycle; once that is due, a new reminder
    now = timezone.now()
    FollowUp.objects.filter(customer=customer).update(created_at=now - timedelta(days=28, hours=12))
    paid_order(shop, customer.shopper, [tea], paid_at=now - timedelta(days=28))
    assert repurchase_reminders_run(shop=shop)["created"] == 1
    assert FollowUp.objects.filter(customer=customer, kind="repurchase").count() == 2
    assert len(reminders.outbox) == 2


def test_messages_only_with_marketing_consent(shop, tea):
    yes = buyer(shop, days_ago=35, products=[tea], consent=True)
    buyer(shop, days_ago=35, products=[tea], consent=False)
    gone = buyer(shop, days_ago=35, products=[tea], consent=True)
    gone.anonymized_at, gone.phone = timezone.now(), ""
    gone.save()
    result = repurchase_reminders_run(shop=shop)
    # the anonymised customer gets neither a task nor a message; the one without consent gets a task only
    assert result == {"created": 2, "sent": 1, "no_consent": 1}
    assert [pid for pid, _text in reminders.outbox] == [yes.public_id]


def test_lead_days_and_pluggable_channel(shop, tea, settings):
    settings.SIYU_REMINDER_BACKEND = "tests.customers.test_reminders.RecordingBackend"
    customer = buyer(shop, days_ago=22, products=[tea])
    assert repurchase_reminders_run(shop=shop)["created"] == 0
    assert repurchase_reminders_run(shop=shop, lead_days=8)["created"] == 1
    assert [pid for pid, _text in sent_here] == [customer.public_id] and reminders.outbox == []


def test_query_count_does_not_grow_with_due_customers(shop, tea, django_assert_num_queries):
    staff = make_staff(shop, role=OPERATOR)
    for _ in range(3):
        buyer(shop, days_ago=40, products=[tea], assigned_to=staff)
    # products; savepoint; due purchases; their customers; earlier reminders; bulk insert; count;
    # release; whether a repurchase journey sends the messages instead (siyu.campaigns.journeys);
    # the reminders made, with customer and product; the timeline events in one insert
    with django_assert_num_queries(11):
        assert repurchase_reminders_run(shop=shop)["sent"] == 3
    for _ in range(12):
        buyer(shop, days_ago=40, products=[tea], assigned_to=staff)
    with django_assert_num_queries(11):
        assert repurchase_reminders_run(shop=shop)["sent"] == 12


def test_daily_task_runs_every_shop(shop, other_shop, tea):
    from siyu.customers.tasks import repurchase_reminders_daily

    their_tea = make_product(other_shop, name="龙井", consumption_cycle_days=30)
    buyer(shop, days_ago=40, products=[tea])
    buyer(other_shop, days_ago=40, products=[their_tea])
    assert repurchase_reminders_daily.call_local() == 2
    assert repurchase_reminders_daily.call_local() == 0
