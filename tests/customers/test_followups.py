"""Notes, follow-ups, and each staff member's "today" list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.roles import FINANCE, OPERATOR
from siyu.core.errors import InvalidInput, PermissionDenied
from siyu.customers.followups import followup_create, followup_done, followups_today, note_add
from siyu.customers.models import CustomerEvent, FollowUp, Note
from tests.factories import make_product, make_staff

from .test_segments import make_customer


def test_note_add_keeps_the_text_and_writes_the_timeline(shop, owner):
    customer = make_customer(shop)
    note = note_add(actor=owner, customer=customer, text="  喜欢绿茶，周末有空  ")
    assert Note.objects.get().text == "喜欢绿茶，周末有空" and note.author == owner
    event = CustomerEvent.objects.get(customer=customer)
    assert (event.kind, event.data["note"], event.actor_label) == ("note.added", note.pk, owner.display_name)
    with pytest.raises(InvalidInput):
        note_add(actor=owner, customer=customer, text="   ")
    with pytest.raises(PermissionDenied):
        note_add(actor=make_staff(shop, role=FINANCE), customer=customer, text="x")


def test_followup_create_checks_its_input(shop, other_shop, owner):
    customer = make_customer(shop)
    with pytest.raises(InvalidInput):
        followup_create(actor=owner, customer=customer, title="", due_on="2025-01-01")
    with pytest.raises(InvalidInput):
        followup_create(actor=owner, customer=customer, title="回访", due_on="明天")
    with pytest.raises(InvalidInput):
        followup_create(
            actor=owner, customer=customer, title="回访", due_on="2025-01-01", assignee=make_staff(other_shop)
        )
    task = followup_create(actor=owner, customer=customer, title="回访", due_on="2025-01-01", assignee=owner.pk)
    assert (task.due_on.isoformat(), task.assignee, task.kind) == ("2025-01-01", owner, "manual")
    assert CustomerEvent.objects.get(customer=customer).kind == "followup.created"


def test_followup_done_once(shop, owner, operator):
    task = followup_create(actor=owner, customer=make_customer(shop), title="回访", due_on=timezone.localdate())
    first = followup_done(actor=operator, followup=task)
    done_at = first.done_at
    again = followup_done(actor=owner, followup=FollowUp.objects.get(pk=task.pk))
    assert done_at is not None and again.done_at == done_at
    assert CustomerEvent.objects.filter(kind="followup.done").count() == 1


@pytest.fixture
def today_list(shop, other_shop, owner, operator):
    """Open, due-or-overdue tasks for the operator, the owner and nobody, plus ones that must not show."""
    today = timezone.localdate()
    product = make_product(shop, name="龙井")
    make = FollowUp.objects.create

    def task(assignee, due, **extra):
        customer = make_customer(shop, name=f"客户{due.day}")
        return make(shop=shop, customer=customer, assignee=assignee, title="回访", due_on=due, **extra)

    mine = [task(operator, today), task(operator, today - timedelta(days=3), kind="repurchase", product=product)]
    owners = [task(owner, today)]
    left = make_staff(shop, role=OPERATOR)
    unassigned = [task(None, today - timedelta(days=1)), task(left, today)]
    left.is_active = False
    left.save()
    task(operator, today + timedelta(days=1))  # not due yet
    task(operator, today, done_at=timezone.now())  # done
    theirs = make_customer(other_shop)
    make(shop=other_shop, customer=theirs, assignee=None, title="别家", due_on=today)
    return {"mine": mine, "owners": owners, "unassigned": unassigned}


def test_today_lists_what_is_due_for_each_staff_member(shop, owner, operator, today_list):
    got = list(followups_today(shop=shop, staff=operator))
    assert [t.pk for t in got] == [t.pk for t in sorted(today_list["mine"], key=lambda t: (t.due_on, t.pk))]
    owner_list = {t.pk for t in followups_today(shop=shop, staff=owner)}
    assert owner_list == {t.pk for t in today_list["owners"] + today_list["unassigned"]}


def test_today_list_has_constant_queries(shop, operator, today_list, django_assert_num_queries):
    def rendered():
        with django_assert_num_queries(1):
            return [
                (t.customer.name, t.product.name if t.product else "", t.title)
                for t in followups_today(shop=shop, staff=operator)
            ]

    assert len(rendered()) == 2
    for _ in range(5):
        FollowUp.objects.create(
            shop=shop, customer=make_customer(shop), assignee=operator, title="回访", due_on=timezone.localdate()
        )
    assert len(rendered()) == 7


def test_today_list_is_for_this_shops_staff(shop, other_shop, operator):
    with pytest.raises(PermissionDenied):
        followups_today(shop=other_shop, staff=operator)
    inactive = make_staff(shop, role=OPERATOR)
    inactive.is_active = False
    with pytest.raises(PermissionDenied):
        followups_today(shop=shop, staff=inactive)
