"""Shared steps for order tests: place, pay through the sandbox provider, ship, receive."""

import secrets

from django.db import connection

from siyu.orders.checkout import order_place
from siyu.payments.models import Payment
from siyu.payments.providers.sandbox import sandbox_notification
from siyu.payments.services import payment_notify, payment_start


def place(shop, shopper, address, product, quantity=1, **extra):
    sku = product.skus.get()
    extra.setdefault("idempotency_key", secrets.token_hex(8))
    return order_place(
        shop=shop, shopper=shopper, items=[{"sku": sku.pk, "quantity": quantity}], address_id=address.public_id, **extra
    )


def order_insert_statements() -> int:
    """Statements a checkout's INSERTs take: the order, then its lines, timeline row and event, which
    are one statement on PostgreSQL (siyu.core.prepared.insert_new_together) and three elsewhere."""
    return 2 if connection.vendor == "postgresql" else 4


def sandbox_notice(order, txn_id=None, amount=None, **kw):
    payment = Payment.objects.filter(order=order).first()
    if payment is None:
        payment_start(shop=order.shop, shopper=order.shopper, order_public_id=order.public_id, provider="sandbox")
        payment = Payment.objects.get(order=order)
    return sandbox_notification(
        out_trade_no=payment.out_trade_no,
        amount=payment.amount if amount is None else amount,
        txn_id=txn_id or "t" + payment.out_trade_no,
        **kw,
    )


def pay(order):
    headers, body = sandbox_notice(order)
    return payment_notify(provider="sandbox", headers=headers, body=body)


def deliver(order, owner):
    """Pay, ship and confirm receipt of an order, as the shopper and staff would."""
    from siyu.orders.fulfilment import order_ship
    from siyu.orders.lifecycle import order_confirm_receipt

    pay(order)
    order_ship(actor=owner, order_id=order.pk, carrier="中通", tracking_number="ZT1")
    order_confirm_receipt(order_id=order.pk, actor=order.shopper)


def ask(order, line, kind, quantity, reason_code):
    """The order's shopper asks for an after-sale on one line."""
    from siyu.payments.aftersales import aftersale_request

    return aftersale_request(
        shop=order.shop,
        shopper=order.shopper,
        order_public_id=order.public_id,
        line_id=line.pk,
        kind=kind,
        quantity=quantity,
        reason_code=reason_code,
    )
