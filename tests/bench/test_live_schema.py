"""The benchmarks' baselines take their columns from the live models, and say so when they cannot.

These run on every pass without starting a bench: a model change that the baselines cannot follow
fails here, on SQLite too, before anyone runs `make bench-*`.
"""

import pytest
from django.db import connection

from bench.live_schema import RawInsert, SchemaDrift, insert_select
from siyu.orders.models import Order, OrderLine


def test_a_not_null_column_the_baseline_does_not_set_stops_it_by_name():
    with pytest.raises(SchemaDrift, match=r"orders_orderline: NOT NULL .*\bunit_price\b"):
        RawInsert(OrderLine, connection=connection, per_row=["order_id"], fixed={"shop_id": 1, "sku_id": 1})


def test_an_unknown_column_is_refused():
    with pytest.raises(SchemaDrift, match="no column"):
        RawInsert(Order, connection=connection, per_row=["no_such_column"])


def test_every_other_column_gets_its_model_default():
    from bench.minimal_view import raw_inserts

    order, line = raw_inserts(1, 2, 3)
    for insert, model in ((order, Order), (line, OrderLine)):
        required = {f.column for f in model._meta.concrete_fields if not f.null and not f.primary_key}
        assert required <= set(insert.columns)  # nullable ones are left to be NULL
    params = dict(zip(order.columns, order.params(("p", "n", 7, "k")), strict=True))
    assert params["shopper_id"] == 7 and params["status"] == "pending_payment"
    assert params["phone"] != "x"  # the encrypted field encrypts, as the ORM would


def test_customers_baseline_covers_the_live_models():
    from bench.customers import CUSTOMER_COLUMNS, ORDER_COLUMNS
    from siyu.customers.models import Customer, ExternalOrder

    RawInsert(Customer, connection=connection, per_row=CUSTOMER_COLUMNS)
    RawInsert(ExternalOrder, connection=connection, per_row=ORDER_COLUMNS)


def test_commission_generators_cover_the_live_models():
    from bench import commissions as bench
    from siyu.accounts.models import Shopper
    from siyu.distribution.models import Promoter

    for model, select in [
        (Shopper, bench.SHOPPER_COLUMNS),
        (Promoter, bench.PROMOTER_COLUMNS),
        (Order, bench.ORDER_COLUMNS),
        (OrderLine, bench.LINE_COLUMNS),
    ]:
        sql, _ = insert_select(model, connection=connection, select=select, rest="FROM t")
        head = sql.splitlines()[0]
        required = {f.column for f in model._meta.concrete_fields if not f.null and not f.primary_key}
        assert head.startswith(f"INSERT INTO {model._meta.db_table} (")
        assert {c for c in required if connection.ops.quote_name(c) not in head} == set()
