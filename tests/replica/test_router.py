"""Which database a read goes to, on SQLite and PostgreSQL, with "replica" mirroring the test database.

These assert routing (which connection ran the query), never data read from the replica, so they
hold as well when "replica" is a real standby a moment behind."""

import time
from unittest import mock

import pytest
from django.core import signing
from django.db import connection, connections, transaction
from django.urls import reverse

from siyu.catalog.models import Product
from siyu.core.db_router import STICKY_COOKIE, ReplicaRouter, replica_reads, replica_reads_iter
from siyu.distribution.tasks import promoter_flags_daily
from siyu.referrals.analytics import fission_overview
from siyu.shops.models import Shop

from .conftest import BOTH, queries_on_each, wait_for_replay

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH)


def _read(shop) -> list:
    return list(Product.objects.filter(shop=shop).values_list("pk", flat=True))


# --- without replicas: nothing changes --------------------------------------------------------------


def test_without_replicas_every_read_is_on_the_primary_and_nothing_is_installed(shop, product):
    with queries_on_each() as plain:
        _read(shop)
    with replica_reads(), queries_on_each() as scoped:
        assert connections["default"].execute_wrappers == []  # no write watcher either
        _read(shop)
    assert scoped["replica"] == 0
    assert scoped["default"] == plain["default"] == 1


def test_without_replicas_a_page_costs_what_it_did_and_sets_no_cookie(staff_client, product, settings):
    url = reverse("console:products")
    staff_client.get(url)  # first request of the test: one-time reads (session, caches) stay out of the counts
    with queries_on_each() as off:
        response = staff_client.get(url)
    assert response.status_code == 200 and off["replica"] == 0
    settings.SIYU_REPLICA_ALIASES = ["replica"]
    with queries_on_each() as on:
        assert staff_client.get(url).status_code == 200
    # The router adds no query: the same statements, some of them now on the replica. (After the
    # whole suite on PostgreSQL one read of the first request is already cached by the time of the
    # second, so "no more than" rather than "exactly as many".)
    assert on["default"] + on["replica"] <= off["default"]
    assert on["replica"] > 0

    settings.SIYU_REPLICA_ALIASES = []
    response = _status(staff_client, product, "off_shelf")
    assert response.status_code == 302 and STICKY_COOKIE not in response.cookies


# --- the router's rules -----------------------------------------------------------------------------


def test_reads_go_to_the_replica_only_inside_replica_reads(replicas_on, shop, product):
    with queries_on_each() as outside:
        _read(shop)
    assert (outside["default"], outside["replica"]) == (1, 0)
    with replica_reads(), queries_on_each() as inside:
        _read(shop)
        assert Product.objects.all().db == "replica"
    assert (inside["default"], inside["replica"]) == (0, 1)


def test_never_inside_a_transaction_nor_for_a_locking_read(replicas_on, shop, product):
    with replica_reads(), queries_on_each() as seen:
        with transaction.atomic():
            _read(shop)
            assert Product.objects.select_for_update().db == "default"
            list(Product.objects.select_for_update().filter(pk=product.pk))
        assert Product.objects.select_for_update().db == "default"
    assert seen["replica"] == 0


def test_after_a_write_the_rest_of_the_scope_reads_the_primary(replicas_on, shop, product):
    with replica_reads():
        assert Product.objects.all().db == "replica"
        Product.objects.filter(pk=product.pk).update(name="改名")
        assert Product.objects.all().db == "default"
    with replica_reads():  # a new scope (another task) starts on the replica again
        assert Product.objects.all().db == "replica"


def test_raw_sql_writes_count_as_writes(replicas_on, shop, product):
    with replica_reads():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE catalog_product SET name = %s WHERE id = %s", ["原始", product.pk])
        assert Product.objects.all().db == "default"


def test_objects_read_from_a_replica_do_not_drag_later_reads_there(replicas_on, shop, product):
    wait_for_replay()
    with replica_reads():
        found = Product.objects.get(pk=product.pk)
    assert found._state.db == "replica"
    with queries_on_each() as later:
        assert found.shop.pk == shop.pk  # a related read outside the block: the primary
    assert (later["default"], later["replica"]) == (1, 0)
    found.shop = Shop.objects.get(pk=shop.pk)  # relations across the two are allowed
    found.name = "回写"
    found.save()  # and writes always go to the primary
    assert Product.objects.get(pk=product.pk).name == "回写"


def test_migrations_never_run_on_a_replica(replicas_on):
    router = ReplicaRouter()
    assert router.allow_migrate("replica", "catalog") is False
    assert router.allow_migrate("default", "catalog") is None


def test_a_streamed_export_reads_the_replica_after_the_view_returned(replicas_on, shop, product):
    rows = replica_reads_iter(iter(lambda: _read(shop), None))  # one chunk per next()
    with queries_on_each() as seen:
        next(rows)
    assert (seen["default"], seen["replica"]) == (0, 1)


def test_a_streamed_export_after_a_write_in_its_request_stays_on_the_primary(replicas_on, shop, product):
    with replica_reads():
        Product.objects.filter(pk=product.pk).update(name="导出前")
        rows = replica_reads_iter(iter(lambda: _read(shop), None))
    with queries_on_each() as seen:
        next(rows)
    assert (seen["default"], seen["replica"]) == (1, 0)


def test_fission_analytics_and_the_flag_scan_read_the_replica(replicas_on, shop, product):
    with queries_on_each() as seen:
        fission_overview(shop=shop)
    assert seen["replica"] > 0 and seen["default"] == 0
    with queries_on_each() as seen:
        promoter_flags_daily.call_local()
    assert seen["replica"] > 0


# --- read-your-writes across requests ---------------------------------------------------------------


def _status(client, product, status: str):
    return client.post(reverse("console:product_status", args=[product.public_id]), {"status": status})


def test_a_list_page_reads_the_replica(replicas_on, staff_client, product):
    with queries_on_each() as seen:
        response = staff_client.get(reverse("console:products"))
    assert response.status_code == 200 and STICKY_COOKIE not in response.cookies
    assert seen["replica"] > 0


def test_after_a_request_that_wrote_the_same_browser_reads_the_primary(replicas_on, staff_client, product):
    response = _status(staff_client, product, "off_shelf")
    assert response.status_code == 302
    cookie = response.cookies[STICKY_COOKIE]
    assert cookie["max-age"] == 10 and cookie["httponly"]
    with queries_on_each() as seen:
        response = staff_client.get(reverse("console:products"))
    assert response.status_code == 200 and seen["replica"] == 0
    assert STICKY_COOKIE not in response.cookies  # a read does not extend the window


def test_the_window_ends_and_a_forged_cookie_pins_nothing(replicas_on, staff_client, product):
    url = reverse("console:products")
    salt = STICKY_COOKIE + "siyu.core.db_router.primary"
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 11):
        staff_client.cookies[STICKY_COOKIE] = signing.get_cookie_signer(salt=salt).sign("1")
    with queries_on_each() as old:
        staff_client.get(url)
    staff_client.cookies[STICKY_COOKIE] = "1:forged:signature"
    with queries_on_each() as forged:
        staff_client.get(url)
    assert old["replica"] > 0 and forged["replica"] > 0

    staff_client.cookies[STICKY_COOKIE] = signing.get_cookie_signer(salt=salt).sign("1")
    with queries_on_each() as fresh:
        staff_client.get(url)
    assert fresh["replica"] == 0  # the same cookie, signed now: still inside the window
