"""Long lists page instead of stopping at 20 rows: the customer page's points history, imported
orders, notes and follow-ups, and a promoter's commissions — each at 5 and 30 rows with the same
query count, with page links that keep the other lists where they were."""

import pytest
from django.urls import reverse
from django.utils import timezone

from siyu.customers.models import CustomerEvent, FollowUp, Note, PointsEntry
from siyu.distribution.models import Commission
from siyu.orders.models import OrderLine

from ..distribution.promoter_steps import referred_order, world
from .customer_helpers import make_customer, make_external_order

pytestmark = pytest.mark.django_db


def _fill(shop, customer, owner, n: int) -> None:
    """n of each list on the customer page, newest last."""
    for i in range(n):
        make_external_order(customer, amount=100 + i, days_ago=n - i)
    PointsEntry.objects.bulk_create(
        [PointsEntry(shop=shop, customer=customer, delta=i + 1, reason="earn") for i in range(n)]
    )
    Note.objects.bulk_create([Note(customer=customer, author=owner, text=f"备注{i}") for i in range(n)])
    FollowUp.objects.bulk_create(
        [FollowUp(shop=shop, customer=customer, title=f"回访{i}", due_on=timezone.localdate()) for i in range(n)]
    )
    CustomerEvent.objects.bulk_create(
        [CustomerEvent(shop=shop, customer=customer, kind="note.added", data={"excerpt": f"e{i}"}) for i in range(n)]
    )


def _queries_of_customer_page(client, customer, django_assert_num_queries, **params):
    # shop, user, staff, customer, its tags, social accounts, social links, points balance;
    # imported orders, notes, follow-ups, points, timeline: a count and a page each; no own
    # orders or after-sales (no storefront account): nothing; tag choices, staff list
    with django_assert_num_queries(22):  # + the CLV block (analytics.view), the channel addresses
        response = client.get(reverse("console:customer_detail", args=[customer.public_id]), params)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("rows", [5, 30])
def test_customer_page_lists_page_with_a_fixed_query_count(staff_client, shop, owner, rows, django_assert_num_queries):
    customer = make_customer(shop, name="老客")
    _fill(shop, customer, owner, rows)
    response = _queries_of_customer_page(staff_client, customer, django_assert_num_queries)
    shown = min(rows, 20)
    ctx = response.context
    assert len(ctx["points"]) == len(ctx["external_orders"]) == len(ctx["notes"]) == len(ctx["follow_ups"]) == shown
    assert len(ctx["timeline"]) == rows  # up to 50 a page
    assert ctx["pagers"]["points"].page_obj.paginator.count == rows
    body = response.content.decode()
    assert ("points_page=2" in body) == (rows > 20) and ("imported_page=2" in body) == (rows > 20)


def test_the_second_page_shows_the_rest_and_keeps_the_other_lists(staff_client, shop, owner, django_assert_num_queries):
    customer = make_customer(shop)
    _fill(shop, customer, owner, 30)
    response = _queries_of_customer_page(
        staff_client, customer, django_assert_num_queries, points_page=2, imported_page="2"
    )
    ctx = response.context
    assert len(ctx["points"]) == 10 and len(ctx["external_orders"]) == 10 and len(ctx["notes"]) == 20
    # newest first: page 2 holds the ten oldest entries (deltas 1..10) and imported orders
    assert sorted(p["entry"].delta for p in ctx["points"]) == list(range(1, 11))
    assert max(x["order"].amount for x in ctx["external_orders"]) == 109
    body = response.content.decode()
    # the notes' "next" link keeps the points and imported pages where they are
    assert "notes_page=2" in body and "points_page=2&amp;imported_page=2&amp;notes_page=2" in body
    # a page number out of range or junk falls back to a real page, never a 404 or 500
    again = _queries_of_customer_page(staff_client, customer, django_assert_num_queries, points_page="99")
    assert len(again.context["points"]) == 10
    junk = _queries_of_customer_page(staff_client, customer, django_assert_num_queries, points_page="x")
    assert len(junk.context["points"]) == 20


def _commissions(w, order, n: int) -> None:
    """Commissions for the promoter up to n in all, on copies of one paid order's line."""
    line = OrderLine.objects.filter(order=order).first()
    for _i in range(n - Commission.objects.filter(promoter=w.promoter).count()):
        line.pk = None
        line.save()
        Commission.objects.create(
            shop=w.shop, promoter=w.promoter, order=order, line=line, base_amount=10000, rate_bp=1000, amount=1000
        )


@pytest.mark.parametrize("rows", [5, 30])
def test_promoter_commissions_page(
    en_client, shop, owner, rows, django_assert_num_queries, django_capture_on_commit_callbacks
):
    w = world(shop, owner)
    with django_capture_on_commit_callbacks(execute=True):
        order = referred_order(w)
    _commissions(w, order, rows)
    assert Commission.objects.filter(promoter=w.promoter).count() == rows
    url = reverse("console:promoter_detail", args=[w.promoter.pk])
    # shop, user, staff, promoter; sell-through 4; wallet 3; commissions count and page; flags
    with django_assert_num_queries(14):
        response = en_client.get(url)
    assert len(response.context["commissions"].rows) == min(rows, 20)
    assert ("commissions_page=2" in response.content.decode()) == (rows > 20)
    if rows > 20:
        with django_assert_num_queries(14):
            rest = en_client.get(url, {"commissions_page": 2})
        assert len(rest.context["commissions"].rows) == rows - 20
