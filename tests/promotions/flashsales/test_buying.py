"""Flash sales end to end on the services: stock taken and given back exactly once, limits, windows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from siyu.catalog.models import Sku
from siyu.core.errors import Conflict, InvalidInput
from siyu.orders import lifecycle
from siyu.orders.models import OrderStatus
from siyu.payments.models import Payment, Refund
from siyu.payments.services import payment_notify
from siyu.promotions.flashsales import services
from siyu.promotions.flashsales.buying import flash_release_on_cancel, flash_soldout
from siyu.promotions.flashsales.models import FlashItem, FlashOrder, FlashPurchase

from ...orders.helpers import pay, sandbox_notice
from .conftest import buyer, flash_buy, make_flash


def _stock(sku_id):
    return Sku.objects.get(pk=sku_id).stock


def _left(item):
    return FlashItem.objects.get(pk=item.pk).stock_left


def test_scheduling_takes_the_flash_stock_from_the_sku(item):
    assert item.stock_taken and item.stock_left == 5
    assert _stock(item.sku_id) == 15


def test_scheduling_refuses_more_than_the_stock_and_takes_nothing(owner, shop, phone):
    with pytest.raises(Conflict) as exc:
        make_flash(owner, shop, phone, flash_stock=21)
    assert exc.value.code == "insufficient_stock"
    assert _stock(phone.skus.get().pk) == 20 and not FlashItem.objects.filter(stock_taken=True).exists()


def test_buying_at_the_flash_price_with_the_short_deadline(shop, shopper, address, item):
    before = timezone.now()
    order = flash_buy(shop, shopper, address, item)
    line = order.lines.get()
    assert line.unit_price == 990 and line.list_price == 1990 and line.stock_held
    assert line.promotion == f"flash_sale:{item.public_id}"
    assert order.subtotal == 990 and order.total == 990 + order.shipping_fee
    assert timedelta(minutes=4) < order.pay_deadline - before <= timedelta(minutes=5, seconds=5)
    assert _left(item) == 4 and _stock(item.sku_id) == 15  # taken from the flash stock only
    assert FlashPurchase.objects.get(item=item, shopper=shopper).quantity == 1


def test_the_limit_per_customer_holds_across_orders(shop, shopper, address, item):
    flash_buy(shop, shopper, address, item)
    with pytest.raises(Conflict) as exc:
        flash_buy(shop, shopper, address, item)
    assert exc.value.code == "flash_sale_limit"
    assert _left(item) == 4 and FlashOrder.objects.count() == 1


def test_a_quantity_over_the_limit_is_refused(owner, shop, shopper, address, phone):
    item = make_flash(owner, shop, phone, limit=2)
    with pytest.raises(Conflict) as exc:
        flash_buy(shop, shopper, address, item, quantity=3)
    assert exc.value.code == "flash_sale_limit"
    flash_buy(shop, shopper, address, item, quantity=2)
    assert _left(item) == 3


def test_outside_the_window_or_unscheduled_is_refused(owner, shop, shopper, address, phone):
    later = make_flash(owner, shop, phone, starts_in=timedelta(hours=1))
    with pytest.raises(Conflict) as exc:
        flash_buy(shop, shopper, address, later)
    assert exc.value.code == "flash_sale_not_running"
    draft = make_flash(owner, shop, phone, schedule=False)
    with pytest.raises(Conflict):
        flash_buy(shop, shopper, address, draft)


def test_a_flash_item_is_bought_on_its_own_and_only_in_its_shop(shop, other_shop, shopper, address, item, phone):
    from siyu.orders.checkout import order_place

    from ...factories import make_product

    other = make_product(shop, name="别的")
    with pytest.raises(InvalidInput) as exc:
        order_place(
            shop=shop,
            shopper=shopper,
            items=[{"sku": item.sku_id, "quantity": 1}, {"sku": other.skus.get().pk, "quantity": 1}],
            address_id=address.public_id,
            idempotency_key="two-lines-0001",
            options={"promotion": f"flash_sale:{item.public_id}"},
        )
    assert exc.value.code == "flash_sale_one_item"
    from siyu.orders.checkout import order_quote

    theirs = make_product(other_shop, name="隔壁的").skus.get()
    with pytest.raises(InvalidInput) as exc:  # another shop cannot name this shop's item
        order_quote(
            shop=other_shop,
            items=[{"sku": theirs.pk, "quantity": 1}],
            options={"promotion": f"flash_sale:{item.public_id}"},
        )
    assert exc.value.code == "flash_sale_not_found"


def test_sold_out_is_marked_and_later_buyers_refused_without_a_transaction(
    owner, shop, phone, django_capture_on_commit_callbacks
):
    item = make_flash(owner, shop, phone, flash_stock=1)
    first, where = buyer(shop, 1)
    with django_capture_on_commit_callbacks(execute=True):
        flash_buy(shop, first, where, item)
    assert flash_soldout(ref=item.public_id)
    second, there = buyer(shop, 2)
    with CaptureQueriesContext(connection) as ctx, pytest.raises(Conflict) as exc:
        flash_buy(shop, second, there, item)
    assert exc.value.code == "flash_sale_sold_out"
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "flashsales" not in sql and "SAVEPOINT" not in sql and "UPDATE" not in sql and "INSERT" not in sql


def test_unpaid_order_cancelled_at_the_deadline_gives_back_exactly_once(
    shop, shopper, address, owner, phone, django_capture_on_commit_callbacks
):
    item = make_flash(owner, shop, phone, flash_stock=1)
    with django_capture_on_commit_callbacks(execute=True):
        order = flash_buy(shop, shopper, address, item)
    assert flash_soldout(ref=item.public_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.orders_expire_due(now=timezone.now() + timedelta(minutes=6)) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert _left(item) == 1 and _stock(item.sku_id) == 19  # back to the flash stock, not the SKU
    assert FlashPurchase.objects.get(item=item, shopper=shopper).quantity == 0
    assert not flash_soldout(ref=item.public_id)
    from siyu.core.models import OutboxEvent

    flash_release_on_cancel(OutboxEvent.objects.filter(topic="order.cancelled").get())  # delivered again
    assert _left(item) == 1 and FlashPurchase.objects.get(item=item, shopper=shopper).quantity == 0
    flash_buy(shop, shopper, address, item)  # the shopper may buy again
    assert _left(item) == 0


def test_a_late_payment_after_the_cancellation_is_refunded(shop, shopper, address, item):
    order = flash_buy(shop, shopper, address, item)
    headers, body = sandbox_notice(order)
    lifecycle.orders_expire_due(now=timezone.now() + timedelta(minutes=6))
    assert payment_notify(provider="sandbox", headers=headers, body=body) == "needs_refund"
    order.refresh_from_db()
    payment = Payment.objects.get(order=order)
    assert order.status == OrderStatus.CANCELLED and Refund.objects.get(payment=payment).amount == payment.amount
    assert _left(item) == 5  # not taken again


def test_ending_returns_the_leftover_once_and_later_cancels_go_to_the_sku(shop, owner, item):
    paid_buyer, where = buyer(shop, 1)
    pay(flash_buy(shop, paid_buyer, where, item))
    late, there = buyer(shop, 2)
    unpaid = flash_buy(shop, late, there, item)
    services.flash_session_end(shop=shop, session_id=item.session.public_id, actor=owner)
    assert _stock(item.sku_id) == 15 + 3
    services.flash_session_end(shop=shop, session_id=item.session.public_id)  # again: nothing more
    assert services.flash_sessions_end_due(now=timezone.now() + timedelta(days=1)) == 0
    assert _stock(item.sku_id) == 18
    lifecycle.order_cancel(order_id=unpaid.pk, actor=late)
    ended = FlashItem.objects.get(pk=item.pk)
    assert _stock(item.sku_id) == 19 and ended.stock_left == 0
    assert ended.returned_quantity == 4 and ended.sold == 1  # 0 left + 1 sold + 4 back to the SKU == 5


def test_the_worker_ends_sessions_whose_time_is_up(shop, item):
    assert services.flash_sessions_end_due() == 0
    assert services.flash_sessions_end_due(now=timezone.now() + timedelta(hours=2)) == 1
    assert _stock(item.sku_id) == 20 and FlashItem.objects.get(pk=item.pk).stock_returned


def test_no_unit_is_lost_by_the_bookkeeping(shop, owner, phone):
    item = make_flash(owner, shop, phone, flash_stock=6, limit=2)
    orders = []
    for n in range(4):
        shopper, where = buyer(shop, n)
        orders.append(flash_buy(shop, shopper, where, item, quantity=1 + n % 2))
    pay(orders[0])
    pay(orders[1])
    lifecycle.order_cancel(order_id=orders[2].pk, actor="test")
    paid_units = sum(o.lines.get().quantity for o in orders[:2])
    pending_units = orders[3].lines.get().quantity
    assert _left(item) + paid_units + pending_units == item.flash_stock


def test_the_price_floor_applies_to_the_flash_price(shop, shopper, address, owner, item):
    from siyu.distribution.models import PriceFloor

    PriceFloor.objects.create(shop=shop, sku_id=item.sku_id, min_price=1500)
    with pytest.raises(Conflict) as exc:
        flash_buy(shop, shopper, address, item)
    assert exc.value.code == "below_price_floor"
    assert _left(item) == 5


def test_a_flash_price_above_the_sku_price_is_refused(owner, shop, phone):
    with pytest.raises(Conflict) as exc:
        make_flash(owner, shop, phone, flash_price=1991, schedule=False)
    assert exc.value.code == "flash_price_too_high"


def test_a_scheduled_session_cannot_be_changed(owner, shop, item):
    with pytest.raises(Conflict):
        services.flash_item_update(
            actor=owner, shop=shop, item_id=item.public_id, flash_price=500, flash_stock=5, per_customer_limit=1
        )


def test_staff_without_promotions_manage_is_refused(shop, phone):
    from siyu.accounts.roles import SERVICE
    from siyu.core.errors import PermissionDenied

    from ...factories import make_staff

    with pytest.raises(PermissionDenied):
        make_flash(make_staff(shop, role=SERVICE, username="service1"), shop, phone)
