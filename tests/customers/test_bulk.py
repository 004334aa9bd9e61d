"""Bulk work on the customer pool: tag, untag, assign and export over ticked ids, a filter or a
segment — set-based (the statements do not grow with the customers), audited once, permission
checked, and blind to other shops."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.accounts.roles import FINANCE, SERVICE
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.customers import bulk
from siyu.customers.models import Customer, CustomerEvent, CustomerTag, FollowUp, Segment, SegmentMember, Tag
from siyu.customers.tags import tag_create
from tests.factories import make_staff

from .test_segments import make_customer

pytestmark = pytest.mark.django_db

DUE = date(2031, 5, 6)


def _pool(shop, n: int, **fields) -> list[Customer]:
    return [make_customer(shop, name=f"客{i}", **fields) for i in range(n)]


def _ids(customers) -> list[str]:
    return [c.public_id for c in customers]


def _tagged(tag) -> set[int]:
    return set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))


def test_tag_ticked_customers_once_each_with_events_and_one_audit_row(shop, owner):
    picked = _pool(shop, 3)
    left_out = make_customer(shop)
    tag = Tag.objects.create(shop=shop, name="团购")
    CustomerTag.objects.create(customer=picked[0], tag=tag)  # already there: not counted again

    result = bulk.customers_bulk_tag(
        actor=owner, shop=shop, selection=bulk.selection_make(ids=_ids(picked)), tag=tag.pk
    )

    assert (result.selected, result.changed) == (3, 2)
    assert _tagged(tag) == {c.pk for c in picked} and left_out.pk not in _tagged(tag)
    events = CustomerEvent.objects.filter(kind="tag.added")
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(c.pk for c in picked[1:])
    assert events.first().data == {"tag": tag.pk, "name": "团购"}
    assert events.first().actor_label == owner.display_name
    audit = AuditEntry.objects.get(action="customers.bulk_tag")
    assert audit.data["selected"] == 3 and audit.data["changed"] == 2 and audit.data["scope"] == "ids"
    assert sorted(audit.data["ids"]) == sorted(_ids(picked)) and audit.target_id == str(tag.pk)


def test_a_new_tag_name_makes_the_tag(shop, owner):
    customers = _pool(shop, 2)
    bulk.customers_bulk_tag(actor=owner, shop=shop, selection=bulk.selection_make(ids=_ids(customers)), tag="新客")
    assert _tagged(Tag.objects.get(shop=shop, name="新客")) == {c.pk for c in customers}


def _statements(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        func()
    return len(ctx.captured_queries)


@pytest.mark.parametrize("action", ["tag", "untag", "assign", "export"])
def test_statements_do_not_grow_with_the_customers(shop, owner, action):
    """The same statements for 5 and for 30 customers: no per-customer loop anywhere."""
    small, large = Tag.objects.create(shop=shop, name="五"), Tag.objects.create(shop=shop, name="三十")
    for tag, n in ((small, 5), (large, 30)):
        for c in _pool(shop, n):
            CustomerTag.objects.create(customer=c, tag=tag)

    def run(tag):
        selection = bulk.selection_make(filters={"tag": tag.pk}, all_matching=True)
        if action == "assign":
            return lambda: bulk.customers_bulk_assign(
                actor=owner, shop=shop, selection=selection, assignee=owner, title="回访", due_on=DUE
            )
        if action == "export":
            return lambda: list(bulk.customers_bulk_export(actor=owner, shop=shop, selection=selection, limit=100))
        service = bulk.customers_bulk_tag if action == "tag" else bulk.customers_bulk_untag
        other = Tag.objects.get_or_create(shop=shop, name=f"批量{tag.pk}")[0]
        if action == "untag":
            bulk.customers_bulk_tag(actor=owner, shop=shop, selection=selection, tag=other)
        return lambda: service(actor=owner, shop=shop, selection=selection, tag=other)

    assert _statements(run(small)) == _statements(run(large))
    if action == "assign":
        assert FollowUp.objects.filter(assignee=owner).count() == 35


def test_all_matching_a_filter_or_a_segment(shop, owner):
    big = _pool(shop, 4, total_spent=50_000)
    small = _pool(shop, 3, total_spent=100)
    segment = Segment.objects.create(shop=shop, name="大客户", rules={"all": []})
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in big[:2]])

    by_filter = bulk.selection_make(filters={"spend_min": 10_000}, all_matching=True)
    result = bulk.customers_bulk_tag(actor=owner, shop=shop, selection=by_filter, tag="高消费")
    assert result.changed == 4 and _tagged(Tag.objects.get(name="高消费")) == {c.pk for c in big}
    audit = AuditEntry.objects.get(action="customers.bulk_tag")
    assert audit.data["scope"] == "filter" and audit.data["filter"] == {"spend_min": "10000"}

    by_segment = bulk.selection_make(filters={"segment": segment.pk}, all_matching=True)
    result = bulk.customers_bulk_tag(actor=owner, shop=shop, selection=by_segment, tag="分群")
    assert result.changed == 2 and _tagged(Tag.objects.get(name="分群")) == {c.pk for c in big[:2]}

    whole_pool = bulk.selection_make(filters={}, all_matching=True)
    assert bulk.customers_bulk_tag(actor=owner, shop=shop, selection=whole_pool, tag="全部").changed == 7
    assert small[0].pk in _tagged(Tag.objects.get(name="全部"))


def test_untag_takes_off_manual_links_only_and_refuses_automatic_tags(shop, owner):
    customers = _pool(shop, 3, total_spent=50_000)
    tag = Tag.objects.create(shop=shop, name="试用")
    for c in customers[:2]:
        CustomerTag.objects.create(customer=c, tag=tag)
    selection = bulk.selection_make(ids=_ids(customers))

    result = bulk.customers_bulk_untag(actor=owner, shop=shop, selection=selection, tag="试用")

    assert (result.selected, result.changed) == (3, 2) and _tagged(tag) == set()
    assert CustomerEvent.objects.filter(kind="tag.removed").count() == 2
    assert AuditEntry.objects.filter(action="customers.bulk_untag").count() == 1
    auto = tag_create(
        actor=owner, shop=shop, name="自动", rules={"all": [{"field": "total_spent", "op": ">=", "value": 1}]}
    )
    with pytest.raises(Conflict):
        bulk.customers_bulk_untag(actor=owner, shop=shop, selection=selection, tag=auto.pk)
    with pytest.raises(Conflict):
        bulk.customers_bulk_tag(actor=owner, shop=shop, selection=selection, tag=auto)
    assert len(_tagged(auto)) == 3
    with pytest.raises(NotFound):
        bulk.customers_bulk_untag(actor=owner, shop=shop, selection=selection, tag="没有这个")


def test_assign_gives_each_customer_an_owner_and_a_follow_up(shop, owner):
    helper = make_staff(shop, role=SERVICE, username="kefu2")
    customers = _pool(shop, 3)
    selection = bulk.selection_make(ids=_ids(customers))

    result = bulk.customers_bulk_assign(
        actor=owner, shop=shop, selection=selection, assignee=helper.pk, title="节前回访", due_on=DUE
    )

    assert result.changed == 3
    assert set(Customer.objects.filter(assigned_to=helper).values_list("pk", flat=True)) == {c.pk for c in customers}
    tasks = FollowUp.objects.filter(assignee=helper)
    assert tasks.count() == 3 and {t.due_on for t in tasks} == {DUE} and {t.title for t in tasks} == {"节前回访"}
    assert all(t.kind == "manual" and t.done_at is None and t.shop_id == shop.pk for t in tasks)
    event = CustomerEvent.objects.filter(kind="followup.created").first()
    assert event.data == {"title": "节前回访", "due_on": "2031-05-06", "assignee": helper.display_name}
    audit = AuditEntry.objects.get(action="customers.bulk_assign")
    assert audit.data["changed"] == 3 and audit.target_id == str(helper.pk)


def test_assign_refuses_bad_input(shop, owner, other_shop):
    selection = bulk.selection_make(ids=_ids(_pool(shop, 1)))
    stranger = make_staff(other_shop, username="waidian")
    for kwargs in (
        {"assignee": stranger.pk, "title": "x", "due_on": DUE},
        {"assignee": owner.pk, "title": " ", "due_on": DUE},
        {"assignee": owner.pk, "title": "x" * 121, "due_on": DUE},
        {"assignee": owner.pk, "title": "x", "due_on": "tomorrow"},
    ):
        with pytest.raises(InvalidInput):
            bulk.customers_bulk_assign(actor=owner, shop=shop, selection=selection, **kwargs)
    assert not FollowUp.objects.exists() and not AuditEntry.objects.filter(action__startswith="customers.").exists()


def test_other_shops_ids_and_tags_are_out_of_reach(shop, owner, other_shop):
    mine = _pool(shop, 2)
    theirs = make_customer(other_shop)
    selection = bulk.selection_make(ids=[*_ids(mine), theirs.public_id])
    result = bulk.customers_bulk_tag(actor=owner, shop=shop, selection=selection, tag="本店")
    assert result.selected == 2 and not CustomerTag.objects.filter(customer=theirs).exists()
    their_tag = Tag.objects.create(shop=other_shop, name="他店")
    with pytest.raises(NotFound):
        bulk.customers_bulk_tag(actor=owner, shop=shop, selection=selection, tag=their_tag.pk)
    with pytest.raises(NotFound):
        bulk.customers_bulk_tag(actor=owner, shop=shop, selection=selection, tag=their_tag)
    only_theirs = bulk.selection_make(ids=[theirs.public_id])
    assert bulk.customers_bulk_tag(actor=owner, shop=shop, selection=only_theirs, tag="本店").selected == 0
    exported = bulk.customers_bulk_export(actor=owner, shop=shop, selection=only_theirs, limit=10)
    assert list(exported) == []


def test_permissions(shop, owner, other_shop):
    selection = bulk.selection_make(ids=_ids(_pool(shop, 2)))
    finance = make_staff(shop, role=FINANCE, username="caiwu2")
    stranger = make_staff(other_shop, username="waidian2")
    for actor in (finance, stranger, None):
        with pytest.raises(PermissionDenied):
            bulk.customers_bulk_tag(actor=actor, shop=shop, selection=selection, tag="x")
        with pytest.raises(PermissionDenied):
            bulk.customers_bulk_untag(actor=actor, shop=shop, selection=selection, tag="x")
        with pytest.raises(PermissionDenied):
            bulk.customers_bulk_assign(
                actor=actor, shop=shop, selection=selection, assignee=owner, title="x", due_on=DUE
            )
    with pytest.raises(PermissionDenied):
        bulk.customers_bulk_export(actor=stranger, shop=shop, selection=selection, limit=10)
    assert len(list(bulk.customers_bulk_export(actor=finance, shop=shop, selection=selection, limit=10))) == 2
    assert not CustomerTag.objects.exists()
    assert AuditEntry.objects.filter(action="customers.bulk_export").get().data["selected"] == 2


def test_anonymised_customers_are_never_selected(shop, owner):
    live, gone = _pool(shop, 1)[0], make_customer(shop, anonymized_at=timezone.now() - timedelta(days=1))
    result = bulk.customers_bulk_tag(
        actor=owner, shop=shop, selection=bulk.selection_make(filters={}, all_matching=True), tag="在"
    )
    assert result.selected == 1 and _tagged(Tag.objects.get(name="在")) == {live.pk}
    assert gone.pk not in _tagged(Tag.objects.get(name="在"))


def test_a_selection_needs_ids_within_the_limit():
    with pytest.raises(InvalidInput):
        bulk.selection_make(ids=[])
    with pytest.raises(InvalidInput):
        bulk.selection_make(ids=["", "  "])
    with pytest.raises(InvalidInput):
        bulk.selection_make(ids=[f"c{i}" for i in range(bulk.MAX_IDS + 1)])
    assert bulk.selection_make(ids=["a", "a", "b"]).ids == ("a", "b")
