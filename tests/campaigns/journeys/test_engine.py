"""Enrol, deal, send: the holdout is never messaged, consent holds, nothing is sent twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.campaigns.channels.models import MessageLog
from siyu.campaigns.journeys import sending
from siyu.campaigns.journeys.engine import journey_run
from siyu.campaigns.journeys.enrol import journey_enrol_due
from siyu.campaigns.journeys.models import EnrolmentStatus, JourneyEnrolment
from siyu.campaigns.journeys.services import journey_pause
from siyu.campaigns.journeys.tasks import journeys_sweep
from siyu.customers import reminders
from siyu.customers.models import Customer, Lifecycle
from tests.customers.test_segments import paid_order
from tests.factories import make_product

from .conftest import journey, person

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)
S = EnrolmentStatus


def lapsed(shop, n: int, **fields) -> list[Customer]:
    return [
        person(shop, lifecycle=Lifecycle.AT_RISK, order_count=1, last_order_at=timezone.now() - 90 * DAY, **fields)
        for _ in range(n)
    ]


def test_holdout_is_dealt_at_random_recorded_and_never_messaged(owner, shop, log_on):
    pool = lapsed(shop, 60)
    j = journey(owner, shop, "winback", holdout_bp=3000, variants=[{"text": "A {name} {link}"}, {"text": "B {name}"}])
    assert journey_run(journey_id=j.pk)["enrolled"] == 60
    rows = list(JourneyEnrolment.objects.filter(journey=j))
    held = {r.customer_id for r in rows if r.status == S.HOLDOUT}
    assert all(r.variant_id is None for r in rows if r.status == S.HOLDOUT)
    assert 3 <= len(held) <= 35  # 30% of 60 at random: far outside this is a broken deal
    messaged = set(MessageLog.objects.filter(shop=shop).values_list("customer_id", flat=True))
    assert messaged == {c.pk for c in pool} - held
    assert not messaged & held
    assert {r.status for r in rows if r.status != S.HOLDOUT} == {S.SENT}
    letters = {r.variant_id for r in rows if r.variant_id}
    assert len(letters) == 2  # both variants dealt
    # the deal is kept: another run changes nobody's group and sends nothing more
    before = {r.pk: (r.variant_id, r.status) for r in rows}
    assert journey_run(journey_id=j.pk) == {"enrolled": 0, "tried": 0}
    assert {r.pk: (r.variant_id, r.status) for r in JourneyEnrolment.objects.filter(journey=j)} == before
    assert MessageLog.objects.filter(shop=shop).count() == len(pool) - len(held)


def test_merged_text_tracked_link_and_cost(owner, shop, log_on):
    (customer,) = lapsed(shop, 1)
    j = journey(owner, shop, "winback", variants=[{"text": "{name}，{shop}的新品 {link}"}])
    journey_run(journey_id=j.pk)
    row = JourneyEnrolment.objects.get(journey=j)
    assert (row.status, row.cost_fen, row.attempts) == (S.SENT, 5, 1)
    log = MessageLog.objects.get(customer=customer)
    assert log.key == f"journey:{j.pk}:{customer.pk}:{row.occasion}:log"


def test_consent_respected_before_and_after_enrolment(owner, shop, log_on):
    keeps, withdraws = lapsed(shop, 2)
    (never,) = lapsed(shop, 1, consent=False)
    j = journey(owner, shop, "winback")
    journey_enrol_due(journey=j)
    assert set(JourneyEnrolment.objects.filter(journey=j).values_list("customer_id", flat=True)) == {
        keeps.pk,
        withdraws.pk,
    }
    Customer.objects.filter(pk=withdraws.pk).update(marketing_consent_at=None)
    journey_run(journey_id=j.pk)
    by_customer = dict(JourneyEnrolment.objects.filter(journey=j).values_list("customer_id", "status"))
    assert by_customer == {keeps.pk: S.SENT, withdraws.pk: S.REFUSED}
    assert set(MessageLog.objects.filter(shop=shop, status="sent").values_list("customer_id", flat=True)) == {keeps.pk}
    assert never.pk not in by_customer


def test_a_dead_sender_is_resumed_and_nothing_is_sent_twice(owner, shop, log_on):
    lapsed(shop, 4)
    j = journey(owner, shop, "winback")
    journey_enrol_due(journey=j)
    now = timezone.now()
    # a sender claimed two rows, sent one of them, and died before settling
    first, second = JourneyEnrolment.objects.filter(journey=j).order_by("id")[:2]
    JourneyEnrolment.objects.filter(pk__in=[first.pk, second.pk]).update(
        status=S.SENDING, claim="dead", claimed_at=now, attempts=1
    )
    first = JourneyEnrolment.objects.select_related("customer", "variant", "journey__shop").get(pk=first.pk)
    j.refresh_from_db()
    assert sending._send_one(j, first).status == "sent"
    # within the lease the rows stay with the dead sender; the others go out
    assert journey_run(journey_id=j.pk)["tried"] == 2
    assert JourneyEnrolment.objects.filter(journey=j, status=S.SENDING).count() == 2
    # after the lease (the worker restarted) they are resumed; the one already sent is not sent again
    later = now + sending.LEASE + timedelta(seconds=1)
    assert sending.journey_send_due(journey_id=j.pk, now_fn=lambda: later) == 2
    assert set(JourneyEnrolment.objects.filter(journey=j).values_list("status", flat=True)) == {S.SENT}
    assert MessageLog.objects.filter(shop=shop).count() == 4
    assert all(log.attempts == 1 for log in MessageLog.objects.filter(shop=shop))


def test_failures_retry_with_back_off_and_quiet_hours_wait(owner, shop, log_on):
    (customer,) = lapsed(shop, 1)
    j = journey(owner, shop, "winback")
    journey_enrol_due(journey=j)
    row = JourneyEnrolment.objects.get(journey=j)
    now = timezone.now()
    row.attempts = 1
    assert sending.next_try(row, "failed", "provider_error", now, lambda: now) == (
        S.PENDING,
        now + timedelta(minutes=1),
        1,
    )
    row.attempts = 6
    assert sending.next_try(row, "failed", "provider_error", now, lambda: now)[0] == S.FAILED
    quiet = now + timedelta(hours=8)
    assert sending.next_try(row, "refused", "quiet_hours", now, lambda: quiet) == (S.PENDING, quiet, 5)
    assert sending.next_try(row, "refused", "frequency_cap", now, lambda: quiet)[0] == S.REFUSED


def test_a_paused_journey_sends_nothing_more(owner, shop, log_on):
    lapsed(shop, 3)
    j = journey(owner, shop, "winback")
    journey_enrol_due(journey=j)
    journey_pause(actor=owner, shop=shop, public_id=j.public_id)
    assert journey_run(journey_id=j.pk) == {"enrolled": 0, "tried": 0}
    assert sending.journey_send_due(journey_id=j.pk) == 0
    assert not MessageLog.objects.filter(shop=shop).exists()
    assert JourneyEnrolment.objects.filter(journey=j, status=S.PENDING).count() == 3


def test_sweep_runs_every_active_journey(owner, shop, other_shop, log_on):
    from siyu.accounts.roles import OWNER
    from tests.factories import make_staff

    lapsed(shop, 2)
    journey(owner, shop, "winback")
    journey(make_staff(other_shop, role=OWNER), other_shop, "winback")
    paused = journey(owner, shop, "welcome")
    journey_pause(actor=owner, shop=shop, public_id=paused.public_id)
    assert journeys_sweep.call_local() == 2
    assert MessageLog.objects.filter(shop=shop).count() == 2


def test_a_new_customer_is_welcomed_from_the_event(owner, shop, log_on, django_capture_on_commit_callbacks):
    from siyu.core.events import event_dispatch
    from siyu.core.models import OutboxEvent
    from siyu.customers.stats import customer_for_shopper
    from tests.factories import make_shopper

    journey(owner, shop, "welcome", variants=[{"text": "欢迎 {name}"}])
    shopper = make_shopper()
    customer = customer_for_shopper(shop=shop, shopper=shopper)
    Customer.objects.filter(pk=customer.pk).update(marketing_consent_at=timezone.now())
    event = OutboxEvent.objects.get(topic="customer.created", payload__customer=customer.pk)
    with django_capture_on_commit_callbacks(execute=True):
        event_dispatch(event_id=event.pk)
    row = JourneyEnrolment.objects.get(customer=customer)
    assert (row.occasion, row.status) == ("joined", S.SENT)


def test_repurchase_journey_takes_the_reminder_message_over(owner, shop, log_on):
    tea = make_product(shop, name="龙井", consumption_cycle_days=30)
    customer = person(shop)
    paid_order(shop, customer.shopper, [tea], paid_at=timezone.now() - 28 * DAY)
    reminders.outbox.clear()
    j = journey(owner, shop, "repurchase", active_since=timezone.now() - 5 * DAY)
    # the old runner still makes the staff follow-up, but the message is the journey's
    assert reminders.repurchase_reminders_run(shop=shop) == {"created": 1, "sent": 0, "no_consent": 0}
    assert reminders.outbox == []
    journey_run(journey_id=j.pk)
    row = JourneyEnrolment.objects.get(journey=j)
    assert (row.customer_id, row.status, row.detail) == (customer.pk, S.SENT, "龙井")
    log = MessageLog.objects.get(customer=customer)
    assert log.key.startswith(f"journey:{j.pk}:")
