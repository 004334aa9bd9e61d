"""Reactions to order events (subscriptions are registered when this module is imported).

At checkout, before the order's transaction: the price-floor check (a refusal places nothing). In
the order's own transaction: the commission reversal on a refund (they commit together). Through
the outbox, after commit: accrual on payment (idempotent: one commission per line and tier) and
the settlement date on receipt.
"""

from siyu.catalog.price_guards import register_price_guard
from siyu.core.events import event_order_id, subscribe
from siyu.orders.pricing import register_basket_check

from .commissions import commissions_accrue, commissions_mark_received, commissions_reverse_for_refund
from .prices import basket_price_floor_check, floor_read, sku_price_check


@subscribe("order.paid")
def accrue_on_paid(event) -> None:
    commissions_accrue(order_id=event_order_id(event))


@subscribe("order.refunded", in_transaction=True)
def reverse_on_refund(event) -> None:
    commissions_reverse_for_refund(order_id=event_order_id(event))


@subscribe("order.completed")
def settle_date_on_receipt(event) -> None:
    commissions_mark_received(order_id=event_order_id(event))


# Checkout refuses to sell below a floor; the floors come with its SKU query.
register_basket_check(basket_price_floor_check, reads={"floor": floor_read})

# The catalogue asks this before saving a new SKU price (minimum advertised price).
register_price_guard(sku_price_check)
