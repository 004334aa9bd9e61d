"""Against a real streaming standby (.ci/replica.sh; CI sets SIYU_TEST_REPLICA_URL): data written on
the primary is read back through the router from the standby once replayed, and read-your-writes
holds while the standby is behind. Replay is paused to make "behind" certain rather than likely."""

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from siyu.catalog.models import Product
from siyu.core.db_router import STICKY_COOKIE, replica_reads

from ..factories import make_product, make_staff
from .conftest import BOTH, queries_on_each, real_replica, real_replica_skip_reason, replay_paused, wait_for_replay

pytestmark = [
    pytest.mark.django_db(transaction=True, databases=BOTH),
    pytest.mark.skipif(not real_replica(), reason=real_replica_skip_reason()),
]


def _names(shop) -> set[str]:
    return set(Product.objects.filter(shop=shop).values_list("name", flat=True))


def test_the_replica_alias_is_a_standby_of_the_test_database():
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database(), inet_server_port()")
        in_recovery, name, port = cursor.fetchone()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_database(), inet_server_port()")
        primary_name, primary_port = cursor.fetchone()
    assert in_recovery is True and name == primary_name and port != primary_port


def test_a_committed_write_is_read_back_from_the_standby(replicas_on, shop):
    make_product(shop, name="主库写入")
    wait_for_replay()
    with replica_reads(), queries_on_each() as seen:
        assert _names(shop) == {"主库写入"}
    assert seen == {"default": 0, "replica": 1}


def test_while_the_standby_is_behind_a_writer_still_reads_its_own_write(replicas_on, shop):
    make_product(shop, name="旧名")
    wait_for_replay()
    with replay_paused():
        Product.objects.filter(shop=shop).update(name="新名")  # another caller's write
        with replica_reads():
            assert _names(shop) == {"旧名"}  # the standby, behind
        with replica_reads():
            Product.objects.filter(shop=shop).update(name="我的新名")  # this caller's write
            assert _names(shop) == {"我的新名"}  # ... which it reads back, from the primary
    with replica_reads():
        assert _names(shop) == {"我的新名"}  # replayed


def test_the_next_request_of_a_seller_who_wrote_sees_the_change(replicas_on, shop, owner):
    product = make_product(shop, name="上架中的茶")
    seller = Client()
    seller.force_login(owner.user)
    other = Client()
    other.force_login(make_staff(shop, username="colleague").user)
    wait_for_replay()
    off_shelf = reverse("console:products") + "?status=off_shelf"
    with replay_paused():
        response = seller.post(reverse("console:product_status", args=[product.public_id]), {"status": "off_shelf"})
        assert response.status_code == 302 and STICKY_COOKIE in response.cookies
        assert "上架中的茶" in seller.get(off_shelf).content.decode()  # the primary, for the writer
        assert "上架中的茶" not in other.get(off_shelf).content.decode()  # the standby, behind
    assert "上架中的茶" in other.get(off_shelf).content.decode()
