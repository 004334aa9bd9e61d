"""Write-off: once only, by staff or the point's keeper, through the order's lifecycle."""

import pytest
from django.test import override_settings
from django.utils import translation

from siyu.core.errors import Conflict, NotFound, PermissionDenied, RateLimited
from siyu.orders.fulfilment import order_ship
from siyu.orders.lifecycle import orders_auto_confirm_due
from siyu.orders.models import OrderStatus
from siyu.orders.pickup.models import PickupOrder
from siyu.orders.pickup.writeoff import pickup_verify
from tests.concurrency import run_parallel
from tests.factories import make_shopper, make_staff
from tests.orders.helpers import pay

from .conftest import place_pickup

S = OrderStatus


@pytest.fixture
def paid_pickup(shop, shopper, point, posted_product):
    order = place_pickup(shop, shopper, point, posted_product, quantity=2)
    pay(order)
    order.refresh_from_db()
    return order


def test_staff_verifies_a_paid_order_which_is_received(shop, owner, paid_pickup):
    code = paid_pickup.pickup.code
    entry = pickup_verify(shop=shop, code=f" {code[:4]} {code[4:]} ", actor=owner)
    assert entry.verified_at is not None and entry.verified_via == "console"
    paid_pickup.refresh_from_db()
    assert paid_pickup.status == S.COMPLETED and paid_pickup.received_at and paid_pickup.shipped_at
    assert all(ln.shipped_quantity == ln.quantity for ln in paid_pickup.lines.all())
    actions = [(t.action, t.to_status, t.note) for t in paid_pickup.timeline.all()]
    assert actions[-2:] == [
        ("ship", S.SHIPPED, "picked up at the pickup point"),
        ("receive", S.COMPLETED, "picked up at the pickup point"),
    ]


def test_second_verification_is_409_with_when_and_who(shop, owner, paid_pickup):
    pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=owner)
    with pytest.raises(Conflict) as err:
        pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=owner)
    assert err.value.code == "already_picked_up"
    assert err.value.detail["by"] == "boss" and err.value.detail["verified_at"]


def test_unpaid_order_cannot_be_picked_up(shop, owner, shopper, point, posted_product):
    order = place_pickup(shop, shopper, point, posted_product)
    with pytest.raises(Conflict) as err:
        pickup_verify(shop=shop, code=order.pickup.code, actor=owner)
    assert err.value.code == "pickup_not_ready"
    assert PickupOrder.objects.get(order=order).verified_at is None


def test_keeper_verifies_only_their_points_codes(shop, owner, keeper, shopper, point, paid_pickup, posted_product):
    from siyu.orders.pickup.points import pickup_point_create

    from .conftest import POINT

    other_point = pickup_point_create(actor=owner, shop=shop, data={**POINT, "name": "滨江店"})
    other = place_pickup(shop, shopper, other_point, posted_product)
    pay(other)
    with pytest.raises(NotFound):
        pickup_verify(shop=shop, code=other.pickup.code, keeper=keeper)
    stranger = make_shopper("13900002222")
    with pytest.raises(NotFound):
        pickup_verify(shop=shop, code=paid_pickup.pickup.code, keeper=stranger)
    entry = pickup_verify(shop=shop, code=paid_pickup.pickup.code, keeper=keeper)
    assert entry.verified_via == "keeper" and entry.verified_by is None
    assert entry.verified_by_label == keeper.masked_phone
    from siyu.orders.states import timeline_entries

    paid_pickup.refresh_from_db()
    with translation.override("en"):
        last = timeline_entries(order=paid_pickup, for_shopper=True)[-1]
    assert last["who"] == "Pickup point" and last["note"] == "Picked up at the pickup point"


def test_other_shops_staff_cannot_verify(shop, other_shop, paid_pickup):
    stranger = make_staff(other_shop, username="next-door")
    with pytest.raises(PermissionDenied):
        pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=stranger)
    # In their own shop the code is unknown.
    with pytest.raises(NotFound):
        pickup_verify(shop=other_shop, code=paid_pickup.pickup.code, actor=stranger)
    assert PickupOrder.objects.get(order=paid_pickup).verified_at is None


@override_settings(SIYU_PICKUP_WRONG_CODES=3)
def test_wrong_codes_are_throttled_per_verifier(shop, owner, operator, paid_pickup):
    for guess in ("00000000", "abc", "1234567"):
        with pytest.raises(NotFound):
            pickup_verify(shop=shop, code=guess, actor=owner)
    with pytest.raises(RateLimited) as err:
        pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=owner)  # even the right one now
    assert err.value.code == "pickup_rate_limited"
    # Another staff member has their own budget.
    assert pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=operator).verified_at


def test_order_shipped_in_a_batch_then_picked_up(shop, owner, paid_pickup):
    order_ship(actor=owner, order_id=paid_pickup.pk, carrier="顺丰", tracking_number="SF1")
    pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=owner)
    paid_pickup.refresh_from_db()
    assert paid_pickup.status == S.COMPLETED


def test_auto_confirmed_order_can_still_be_handed_over(shop, owner, paid_pickup, settings):
    from datetime import timedelta

    from django.utils import timezone

    order_ship(actor=owner, order_id=paid_pickup.pk, carrier="顺丰", tracking_number="SF1")
    later = timezone.now() + timedelta(days=settings.SIYU_AUTO_CONFIRM_DAYS + 1)
    assert orders_auto_confirm_due(now=later) == 1
    entry = pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=owner)
    assert entry.verified_at
    assert paid_pickup.timeline.last().note == "picked up at the pickup point"


def test_refunded_order_cannot_be_picked_up(shop, owner, paid_pickup):
    from siyu.orders.models import Order

    Order.objects.filter(pk=paid_pickup.pk).update(status=S.CLOSED)
    with pytest.raises(Conflict) as err:
        pickup_verify(shop=shop, code=paid_pickup.pickup.code, actor=owner)
    assert err.value.code == "pickup_not_ready"


@pytest.mark.django_db(transaction=True)
def test_parallel_verifications_succeed_once(postgres_only, shop, owner, keeper, paid_pickup):
    code = paid_pickup.pickup.code
    results = run_parallel(
        lambda i: (
            pickup_verify(shop=shop, code=code, actor=owner)
            if i % 2
            else pickup_verify(shop=shop, code=code, keeper=keeper)
        ),
        [(i,) for i in range(8)],
    )
    wins = [r for r in results if isinstance(r, PickupOrder)]
    losses = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(losses) == 7
    assert {e.code for e in losses} == {"already_picked_up"}
    paid_pickup.refresh_from_db()
    assert paid_pickup.status == S.COMPLETED
    assert [t.action for t in paid_pickup.timeline.all()].count("receive") == 1
