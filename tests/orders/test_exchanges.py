"""Exchanges that ship: goods back → replacement taken from stock (or waiting for it) → shipped
with its own tracking number → received by the shopper or confirmed by the worker."""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from siyu.accounts.roles import FINANCE
from siyu.catalog.models import Sku
from siyu.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from siyu.core.models import AuditEntry
from siyu.orders.checkout import order_place
from siyu.orders.exchanges import exchanges_auto_confirm_due, exchanges_retry_waiting
from siyu.orders.models import AfterSale, AfterSaleStatus, Order, OrderTimeline
from siyu.orders.states import timeline_entries
from siyu.payments.aftersales import (
    aftersale_exchange_received,
    aftersale_exchange_retry,
    aftersale_exchange_ship,
    aftersale_receive_return,
    aftersale_request,
    aftersale_review,
)
from siyu.payments.models import Refund

from ..factories import make_product, make_shopper, make_staff
from .helpers import ask, deliver

A = AfterSaleStatus


@pytest.fixture
def shirt(shop):
    """A product with two sizes at the same price and a third at another price."""
    product = make_product(shop, name="衬衫", price=9900, stock=5)
    m = product.skus.get()
    m.spec_key, m.spec_values = "M", ["M"]
    m.save()
    Sku.objects.create(shop=shop, product=product, spec_key="L", spec_values=["L"], price=9900, stock=0)
    Sku.objects.create(shop=shop, product=product, spec_key="XL", spec_values=["XL"], price=12900, stock=9)
    return product


def sku(product, key) -> Sku:
    return product.skus.get(spec_key=key)


def received_order(shop, shopper, address, owner, product, quantity=1):
    """An order for size M, paid, shipped and received."""
    order = order_place(
        shop=shop,
        shopper=shopper,
        items=[{"sku": sku(product, "M").pk, "quantity": quantity}],
        address_id=address.public_id,
        idempotency_key=secrets.token_hex(8),
    )
    deliver(order, owner)
    return order


def exchange(order, owner, *, replacement=None, quantity=1):
    """Ask, approve (optionally choosing another SKU) and receive the goods back."""
    sale = ask(order, order.lines.get(), "exchange", quantity, "no_reason")
    aftersale_review(
        actor=owner, shop=order.shop, public_id=sale.public_id, approve=True, replacement_sku_id=replacement
    )
    return aftersale_receive_return(actor=owner, shop=order.shop, public_id=sale.public_id)


def fresh(sale) -> AfterSale:
    return AfterSale.objects.get(pk=sale.pk)


def words(order) -> list[dict]:
    """The shopper's timeline of the order, in English."""
    with translation.override("en"):
        return timeline_entries(order=Order.objects.get(pk=order.pk), for_shopper=True)


def test_same_sku_exchange_ships_and_is_received(shop, shopper, address, owner, shirt):
    order = received_order(shop, shopper, address, owner, shirt)
    m = sku(shirt, "M")
    before = m.stock
    sale = exchange(order, owner)
    sale = fresh(sale)
    assert sale.status == A.REPLACEMENT_READY and sale.replacement_sku_id == m.pk
    m.refresh_from_db()
    assert m.stock == before  # one unit back, one unit out
    sale = aftersale_exchange_ship(
        actor=owner, shop=shop, public_id=sale.public_id, carrier="顺丰", tracking_number="SF123"
    )
    assert (sale.status, sale.replacement_carrier, sale.replacement_tracking) == (A.REPLACEMENT_SENT, "顺丰", "SF123")
    sale = aftersale_exchange_received(shop=shop, shopper=shopper, public_id=sale.public_id)
    assert fresh(sale).status == A.EXCHANGED and fresh(sale).replacement_received_at is not None
    assert not Refund.objects.exists()  # an exchange moves no money
    steps = [e["action"] for e in words(order)][-4:]
    assert steps == ["Return received", "Replacement reserved", "Replacement shipped", "Replacement received"]
    assert AuditEntry.objects.filter(action="aftersale.exchanged").count() == 1


def test_staff_may_choose_another_size_at_the_same_price(shop, shopper, address, owner, shirt):
    order = received_order(shop, shopper, address, owner, shirt)
    sale = ask(order, order.lines.get(), "exchange", 1, "no_reason")
    with pytest.raises(InvalidInput):  # another price
        aftersale_review(
            actor=owner, shop=shop, public_id=sale.public_id, approve=True, replacement_sku_id=sku(shirt, "XL").pk
        )
    other = make_product(shop, name="别的", price=9900)
    with pytest.raises(InvalidInput):  # another product
        aftersale_review(
            actor=owner, shop=shop, public_id=sale.public_id, approve=True, replacement_sku_id=other.skus.get().pk
        )
    assert fresh(sale).status == A.REQUESTED
    l_size = sku(shirt, "L")
    Sku.objects.filter(pk=l_size.pk).update(stock=1)
    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True, replacement_sku_id=l_size.pk)
    aftersale_receive_return(actor=owner, shop=shop, public_id=sale.public_id)
    assert fresh(sale).status == A.REPLACEMENT_READY
    l_size.refresh_from_db()
    assert l_size.stock == 0


def test_out_of_stock_waits_then_the_worker_reserves_it(shop, shopper, address, owner, shirt):
    order = received_order(shop, shopper, address, owner, shirt)
    l_size = sku(shirt, "L")  # none in stock
    sale = fresh(exchange(order, owner, replacement=l_size.pk))
    assert sale.status == A.AWAITING_STOCK
    assert [t.action for t in OrderTimeline.objects.filter(order=order)][-1] == "aftersale.awaiting_stock"
    with pytest.raises(Conflict):
        aftersale_exchange_ship(actor=owner, shop=shop, public_id=sale.public_id, carrier="顺丰", tracking_number="S1")
    assert exchanges_retry_waiting() == 0  # still none
    Sku.objects.filter(pk=l_size.pk).update(stock=1)  # stock came back
    assert exchanges_retry_waiting() == 1
    assert fresh(sale).status == A.REPLACEMENT_READY
    assert Sku.objects.get(pk=l_size.pk).stock == 0
    assert exchanges_retry_waiting() == 0  # done once


def test_staff_retry_with_another_sku_or_409(shop, shopper, address, owner, shirt):
    order = received_order(shop, shopper, address, owner, shirt)
    sale = fresh(exchange(order, owner, replacement=sku(shirt, "L").pk))
    with pytest.raises(Conflict) as refused:
        aftersale_exchange_retry(actor=owner, shop=shop, public_id=sale.public_id)
    assert refused.value.code == "replacement_out_of_stock"
    with pytest.raises(PermissionDenied):
        aftersale_exchange_retry(actor=make_staff(shop, role=FINANCE), shop=shop, public_id="x")
    m = sku(shirt, "M")
    stock = m.stock
    aftersale_exchange_retry(actor=owner, shop=shop, public_id=sale.public_id, replacement_sku_id=m.pk)
    sale = fresh(sale)
    assert sale.status == A.REPLACEMENT_READY and sale.replacement_sku_id == m.pk
    assert Sku.objects.get(pk=m.pk).stock == stock - 1
    with pytest.raises(Conflict):  # not waiting any more
        aftersale_exchange_retry(actor=owner, shop=shop, public_id=sale.public_id)


def test_replacement_is_auto_confirmed_after_the_days(shop, shopper, address, owner, shirt, settings):
    settings.SIYU_AUTO_CONFIRM_DAYS = 10
    order = received_order(shop, shopper, address, owner, shirt)
    sale = exchange(order, owner)
    aftersale_exchange_ship(actor=owner, shop=shop, public_id=sale.public_id, carrier="中通", tracking_number="Z9")
    assert exchanges_auto_confirm_due(now=timezone.now() + timedelta(days=9)) == 0
    assert exchanges_auto_confirm_due(now=timezone.now() + timedelta(days=11)) == 1
    assert fresh(sale).status == A.EXCHANGED
    last = words(order)[-1]
    assert (last["action"], last["who"]) == ("Replacement received", "System")
    assert last["note"] == "Receipt confirmed automatically"
    assert exchanges_auto_confirm_due(now=timezone.now() + timedelta(days=30)) == 0


def test_only_the_orders_shopper_confirms_the_replacement(shop, shopper, address, owner, shirt):
    order = received_order(shop, shopper, address, owner, shirt)
    sale = exchange(order, owner)
    aftersale_exchange_ship(actor=owner, shop=shop, public_id=sale.public_id, carrier="中通", tracking_number="Z9")
    with pytest.raises(NotFound):
        aftersale_exchange_received(shop=shop, shopper=make_shopper(), public_id=sale.public_id)
    assert fresh(sale).status == A.REPLACEMENT_SENT


def test_an_exchange_in_progress_is_an_open_request(shop, shopper, address, owner, shirt):
    order = received_order(shop, shopper, address, owner, shirt, quantity=2)
    exchange(order, owner, replacement=sku(shirt, "L").pk)  # waiting for stock
    with pytest.raises(Conflict) as refused:
        aftersale_request(
            shop=shop,
            shopper=shopper,
            order_public_id=order.public_id,
            line_id=order.lines.get().pk,
            kind="return_refund",
            quantity=1,
            reason_code="no_reason",
        )
    assert refused.value.code == "aftersale_open"
