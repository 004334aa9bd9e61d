"""Queries compiled once and run again with other values (siyu/core/prepared.py): the statement run
must be the ORM's own for the real values, and the objects made from it the ORM's objects."""

import pytest

from siyu.accounts import selectors
from siyu.accounts import services as account_services
from siyu.accounts.models import Address
from siyu.accounts.selectors import address_find, address_get
from siyu.accounts.services import token_authenticate, token_issue
from siyu.core.errors import NotFound

from ..factories import make_shopper

pytestmark = pytest.mark.django_db


def test_the_address_read_is_the_orm_query_for_the_real_values(shop, shopper, address):
    expected = selectors._address_query(shop_id=shop.pk, shopper_id=shopper.pk, public_id=address.public_id)
    sql, params = selectors._ADDRESS_READ.sql_with_params(shop=shop.pk, shopper=shopper.pk, public_id=address.public_id)
    assert (sql, params) == (expected.query.sql_with_params()[0], list(expected.query.sql_with_params()[1]))


def test_the_address_read_finds_only_the_shoppers_own_and_decrypts_it(
    shop, shopper, address, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = address_find(shop=shop, shopper=shopper, public_id=address.public_id)
    reference = Address.objects.get(pk=address.pk)
    assert found is not None and found.pk == address.pk
    assert (found.phone, found.detail, found.recipient) == (reference.phone, reference.detail, reference.recipient)
    assert found._state.adding is False
    assert address_find(shop=shop, shopper=make_shopper(), public_id=address.public_id) is None
    with pytest.raises(NotFound):
        address_get(shop=shop, shopper=shopper, public_id="nope")


def test_the_token_read_is_the_orm_query_and_signs_in_the_right_holder(shop, owner, shopper):
    _, staff_key = token_issue(shop=shop, staff=owner, name="erp")
    _, shopper_key = token_issue(shop=shop, shopper=shopper, name="app")
    expected = account_services._token_query(key_hash=account_services._token_hash(staff_key)).query
    sql, params = account_services._TOKEN_READ.sql_with_params(key=account_services._token_hash(staff_key))
    assert (sql, params) == (expected.sql_with_params()[0], list(expected.sql_with_params()[1]))
    staff_token = token_authenticate(key=staff_key)
    assert staff_token.staff == owner and staff_token.staff.user == owner.user and staff_token.shopper is None
    assert token_authenticate(key=shopper_key).shopper == shopper
    assert token_authenticate(key="sy_" + "x" * 40) is None


# --- prepared INSERTs and server-side prepared statements ------------------------------------


@pytest.fixture
def order(shop, shopper, address, product):
    from ..orders.helpers import place

    return place(shop, shopper, address, product)


def _row(obj, *skip: str) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields if f.attname not in skip}


def test_insert_new_writes_the_row_save_would_write(django_assert_num_queries):
    from siyu.core.models import OutboxEvent
    from siyu.core.prepared import insert_new

    payload = {"order": 7, "names": ["甲", "b"], "nested": {"x": None}}
    by_save = OutboxEvent(topic="order.placed", shop_id=3, payload=payload)
    by_save.save(force_insert=True)
    for _ in range(3):  # compiled on the first, reused after
        with django_assert_num_queries(1):
            (ours,) = insert_new([OutboxEvent(topic="order.placed", shop_id=3, payload=payload)])
        assert ours.pk is not None and ours.pk > by_save.pk
        assert ours._state.adding is False and ours._state.db == "default"
        assert ours.created_at is not None  # auto_now_add filled, as save() fills it
        stored = OutboxEvent.objects.get(pk=ours.pk)
        assert _row(stored, "id", "created_at") == _row(OutboxEvent.objects.get(pk=by_save.pk), "id", "created_at")
        assert stored.created_at == ours.created_at


def test_insert_new_of_several_rows_is_one_statement_with_every_key_in_order(order, django_assert_num_queries):
    from siyu.core.prepared import insert_new
    from siyu.orders.models import OrderTimeline

    rows = [OrderTimeline(order=order, actor_label=f"a{i}", action="note", data={"i": i}) for i in range(3)]
    with django_assert_num_queries(1):
        made = insert_new(rows)
    assert made is rows and all(r.pk for r in rows)
    assert [r.pk for r in rows] == sorted(r.pk for r in rows)
    assert {r.pk: r.data for r in OrderTimeline.objects.filter(pk__in=[r.pk for r in rows])} == {
        r.pk: {"i": i} for i, r in enumerate(rows)
    }
    assert insert_new([]) == []


def test_insert_new_takes_django_s_own_path_where_a_shortcut_would_differ(order):
    from django.db.models import Value
    from django.db.models.functions import Upper
    from django.db.models.signals import pre_save

    from siyu.core.prepared import insert_new
    from siyu.orders.models import OrderTimeline

    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.actor_label)

    pre_save.connect(listener, sender=OrderTimeline)
    try:
        insert_new([OrderTimeline(order=order, actor_label="signalled", action="note")])
    finally:
        pre_save.disconnect(listener, sender=OrderTimeline)
    assert seen == ["signalled"]  # the save signal was sent
    # An expression first (nothing compiled for one timeline row in this thread yet), then plain rows:
    # the expression's SQL must not become the statement plain rows run.
    from siyu.core import prepared

    prepared._inserts.cache = {}
    (expr,) = insert_new([OrderTimeline(order=order, actor_label=Upper(Value("expr")), action="note")])
    (plain,) = insert_new([OrderTimeline(order=order, actor_label="plain", action="note")])
    assert OrderTimeline.objects.get(pk=expr.pk).actor_label == "EXPR"
    assert OrderTimeline.objects.get(pk=plain.pk).actor_label == "plain"
    unsaved = OrderTimeline(order=order, actor_label="x", action="note")
    unsaved.order = type(order)(shop=order.shop)  # an unsaved related object is refused, as by save()
    with pytest.raises(ValueError):
        insert_new([unsaved])


def test_insert_new_together_writes_each_list_as_insert_new_would_in_one_statement_on_postgresql(
    order, django_assert_num_queries
):
    from django.db import connection

    from siyu.core.models import OutboxEvent
    from siyu.core.prepared import insert_new, insert_new_together
    from siyu.orders.models import OrderTimeline

    def made():
        timeline = [OrderTimeline(order=order, actor_label=f"a{i}", action="note", data={"i": i}) for i in range(3)]
        events = [
            OutboxEvent(topic="order.placed", shop_id=order.shop_id, payload={"order": order.pk, "n": n}) for n in "xy"
        ]
        return timeline, events

    reference = made()
    for group in reference:
        insert_new(group)
    for _ in range(2):  # compiled on the first, reused after
        together = made()
        with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
            insert_new_together(*together, [])
        for ours, theirs in zip(together, reference, strict=True):
            assert all(o.pk and o._state.adding is False and o._state.db == "default" for o in ours)
            assert [o.pk for o in ours] == sorted(o.pk for o in ours)  # each key on its own row, in order
            model = type(ours[0])
            stored = {o.pk: o for o in model.objects.filter(pk__in=[o.pk for o in ours])}
            assert [_row(stored[o.pk], "id", "created_at", "at") for o in ours] == [
                _row(model.objects.get(pk=t.pk), "id", "created_at", "at") for t in theirs
            ]
            assert [_row(stored[o.pk]) for o in ours] == [_row(o) for o in ours]  # the instances hold what was stored


def test_insert_new_together_falls_back_to_one_insert_per_list_where_a_list_needs_django_s_path(order):
    from django.db.models.signals import post_save

    from siyu.core.models import OutboxEvent
    from siyu.core.prepared import insert_new_together
    from siyu.orders.models import OrderTimeline

    seen = []

    def listener(sender, instance, created, **kwargs):
        seen.append((instance.topic, created))

    timeline = [OrderTimeline(order=order, actor_label="t", action="note")]
    event = OutboxEvent(topic="order.placed", shop_id=order.shop_id, payload={"order": order.pk})
    post_save.connect(listener, sender=OutboxEvent)
    try:
        insert_new_together(timeline, [event])
    finally:
        post_save.disconnect(listener, sender=OutboxEvent)
    assert seen == [("order.placed", True)]  # saved by Django, signal and all
    assert OrderTimeline.objects.filter(pk=timeline[0].pk, actor_label="t").exists()
    assert OutboxEvent.objects.filter(pk=event.pk).exists()


def test_insert_new_ignore_conflicts_skips_refused_rows_as_bulk_create_would(order, django_assert_num_queries):
    """ON CONFLICT DO NOTHING, compiled once: new rows go in, a row the unique key refuses leaves the
    stored one as it was, and (as with bulk_create(ignore_conflicts=True)) no key is set."""
    from siyu.core.prepared import insert_new
    from siyu.promotions.models import PromotionUse

    def use(ref: str, discount: int) -> PromotionUse:
        return PromotionUse(shop_id=order.shop_id, order=order, kind="coupon", ref=ref, discount=discount)

    PromotionUse.objects.create(shop_id=order.shop_id, order=order, kind="coupon", ref="a", discount=100)
    for attempt in range(2):  # compiled on the first, reused after
        rows = [use("a", 999), use(f"b{attempt}", 50)]
        with django_assert_num_queries(1):
            assert insert_new(rows, ignore_conflicts=True) is rows
        assert all(r.pk is None and r._state.adding is False and r._state.db == "default" for r in rows)
        (lone,) = insert_new([use("a", 7)], ignore_conflicts=True)  # one row: also no save(), no error
        assert lone.pk is None
    stored = dict(PromotionUse.objects.filter(order=order).values_list("ref", "discount"))
    assert stored == {"a": 100, "b0": 50, "b1": 50}


def _prepared_statements() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_on_postgresql_hot_statements_are_prepared_once_per_connection(postgres_only, order, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from siyu.core.prepared import execute, insert_new
    from siyu.orders.models import OrderTimeline

    insert_new([OrderTimeline(order=order, actor_label="p", action="note")])
    with CaptureQueriesContext(connection) as logged:
        assert execute(connection, "SELECT %s::int + 1", [41]) == [(42,)]
    assert logged.captured_queries[0]["sql"] == "SELECT 41::int + 1"  # the query log shows the values
    assert execute(connection, "SELECT %s::int + 1", [1]) == [(2,)]
    statements = _prepared_statements()
    assert sum(s.startswith('INSERT INTO "orders_ordertimeline"') for s in statements) == 1
    assert sum("SELECT $1::int + 1" in s for s in statements) == 1
    settings.SIYU_DB_PREPARED_STATEMENTS = False
    assert execute(connection, "SELECT %s::int + 2", [1]) == [(3,)]
    assert not any("+ 2" in s for s in _prepared_statements())


def test_the_idempotency_key_read_is_the_orm_query_and_finds_only_that_key(order, shop, shopper):
    from siyu.orders import checkout

    expected = checkout._made_with_query(shop=shop.pk, shopper=shopper.pk, key=order.idempotency_key).query
    sql, params = checkout._MADE_WITH.sql_with_params(shop=shop.pk, shopper=shopper.pk, key=order.idempotency_key)
    assert (sql, params) == (expected.sql_with_params()[0], list(expected.sql_with_params()[1]))
    assert checkout._made_with(shop=shop, shopper=shopper, idempotency_key=order.idempotency_key) == order
    assert checkout._made_with(shop=shop, shopper=make_shopper(), idempotency_key=order.idempotency_key) is None
    assert checkout._made_with(shop=shop, shopper=shopper, idempotency_key="another-key-1") is None


def _same_as_orm(prepared, queryset, **values) -> None:
    sql, params = prepared.sql_with_params(**values)
    assert (sql, params) == (queryset.query.sql_with_params()[0], list(queryset.query.sql_with_params()[1]))
    assert prepared.rows(**values) == list(queryset)  # rows as values_list() gives them


def test_the_promotion_and_flash_sale_reads_are_the_orm_queries_for_the_real_values(order, shop):
    from siyu.orders.models import OrderLine
    from siyu.promotions import handlers
    from siyu.promotions.flashsales import buying

    OrderLine.objects.filter(order=order).update(promotion="flash_sale:abc", stock_held=True, list_price=1200)
    lines = handlers._promoted_lines_query(order=order.pk)
    _same_as_orm(handlers._PROMOTED_LINES, lines, order=order.pk)
    assert handlers._PROMOTED_LINES.rows(order=order.pk) == [("flash_sale:abc", 1200, order.lines.get().unit_price, 1)]
    held = buying._held_line_query(order=order.pk, promotion="flash_sale:abc")
    _same_as_orm(buying._HELD_LINE, held, order=order.pk, promotion="flash_sale:abc")
    assert buying._HELD_LINE.rows(order=order.pk, promotion="flash_sale:abc") == [(1, order.shopper_id)]
    assert buying._HELD_LINE.rows(order=order.pk, promotion="flash_sale:other") == []
    item_limit = buying._item_limit_query(shop=shop.pk, ref="nope")
    _same_as_orm(buying._ITEM_LIMIT, item_limit, shop=shop.pk, ref="nope")
