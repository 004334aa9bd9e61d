"""Community group-buy batches: a point's paid orders in one shipment, with a pick list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.errors import Conflict, PermissionDenied
from siyu.orders.models import Order, OrderStatus, Shipment
from siyu.orders.pickup.batches import pickup_batch_create, pickup_batch_ship
from siyu.orders.pickup.models import PickupOrder
from siyu.orders.pickup.points import pickup_point_create
from siyu.orders.pickup.selectors import pickup_batch_pick_list
from tests.factories import make_product, make_staff
from tests.orders.helpers import pay

from .conftest import POINT, place_pickup

S = OrderStatus


@pytest.fixture
def apple(shop):
    return make_product(shop, name="苹果", price=1000, stock=100)


@pytest.fixture
def pear(shop):
    return make_product(shop, name="梨", price=800, stock=100)


def _ship(owner, shop, batch, tracking):
    carrier = "社区专送"
    return pickup_batch_ship(
        actor=owner, shop=shop, public_id=batch.public_id, carrier=carrier, tracking_number=tracking
    )


def _paid(shop, shopper, point, product, quantity):
    order = place_pickup(shop, shopper, point, product, quantity=quantity)
    pay(order)
    return order


def test_batch_takes_the_points_paid_orders_and_ships_them_as_one(shop, owner, shopper, point, apple, pear):
    other_point = pickup_point_create(actor=owner, shop=shop, data={**POINT, "name": "滨江店"})
    a = _paid(shop, shopper, point, apple, 2)
    b = _paid(shop, shopper, point, pear, 3)
    c = _paid(shop, shopper, point, apple, 1)
    unpaid = place_pickup(shop, shopper, point, apple)
    elsewhere = _paid(shop, shopper, other_point, apple, 5)
    batch = pickup_batch_create(actor=owner, shop=shop, point_id=point.public_id)
    assert batch.order_count == 3
    assert set(PickupOrder.objects.filter(batch=batch).values_list("order_id", flat=True)) == {a.pk, b.pk, c.pk}
    assert PickupOrder.objects.get(order=unpaid).batch is None
    assert PickupOrder.objects.get(order=elsewhere).batch is None

    picks = pickup_batch_pick_list(batch=batch)
    assert [(r["product"], r["quantity"]) for r in picks["summary"]] == [("梨", 3), ("苹果", 3)]
    assert picks["units"] == 6
    assert [r["order"].pk for r in picks["rows"]] == [a.pk, b.pk, c.pk]

    # The next batch of the point finds nothing new.
    with pytest.raises(Conflict) as err:
        pickup_batch_create(actor=owner, shop=shop, point_id=point.public_id)
    assert err.value.code == "batch_empty"

    result = _ship(owner, shop, batch, "B-001")
    assert result["shipped"] == 3 and result["rejected"] == []
    assert set(Order.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("status", flat=True)) == {S.SHIPPED}
    assert Shipment.objects.filter(tracking_number="B-001").count() == 3
    with pytest.raises(Conflict) as err:
        _ship(owner, shop, batch, "B-002")
    assert err.value.code == "batch_shipped"


def test_cutoff_leaves_later_orders_for_the_next_batch(shop, owner, shopper, point, apple):
    early = _paid(shop, shopper, point, apple, 1)
    late = _paid(shop, shopper, point, apple, 1)
    Order.objects.filter(pk=late.pk).update(paid_at=timezone.now() + timedelta(hours=1))
    first = pickup_batch_create(actor=owner, shop=shop, point_id=point.public_id, cutoff=timezone.now())
    assert list(PickupOrder.objects.filter(batch=first).values_list("order_id", flat=True)) == [early.pk]
    later = timezone.now() + timedelta(hours=2)
    second = pickup_batch_create(actor=owner, shop=shop, point_id=point.public_id, cutoff=later)
    assert list(PickupOrder.objects.filter(batch=second).values_list("order_id", flat=True)) == [late.pk]


def test_an_order_closed_meanwhile_comes_back_with_a_reason(shop, owner, shopper, point, apple):
    a = _paid(shop, shopper, point, apple, 1)
    b = _paid(shop, shopper, point, apple, 1)
    batch = pickup_batch_create(actor=owner, shop=shop, point_id=point.public_id)
    Order.objects.filter(pk=b.pk).update(status=S.CLOSED)
    result = _ship(owner, shop, batch, "B-9")
    assert result["shipped"] == 1 and result["orders"] == [a.number]
    assert result["rejected"][0]["order"] == b.number and result["rejected"][0]["code"] == "bad_transition"


def test_other_shops_staff_cannot_batch(shop, other_shop, point):
    stranger = make_staff(other_shop, username="next-door")
    with pytest.raises(PermissionDenied):
        pickup_batch_create(actor=stranger, shop=shop, point_id=point.public_id)
