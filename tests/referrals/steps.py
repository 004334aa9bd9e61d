"""Shared steps for the referral tests: shoppers with addresses, a referee's first order through
the real services, refunds, and the outbox deliveries."""

import secrets

from siyu.accounts.services import address_create
from siyu.orders import lifecycle
from siyu.orders.fulfilment import order_ship
from siyu.orders.models import Order
from siyu.payments import aftersales
from siyu.payments.aftersales import aftersale_review

from ..customers.member_steps import deliver_events
from ..factories import make_shopper
from ..orders.helpers import pay, place


def shopper_with_address(shop, phone=None):
    person = make_shopper(phone)
    address = address_create(
        shop=shop,
        shopper=person,
        data={
            "recipient": "李四",
            "phone": person.phone,
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "detail": "文二路 2 号",
        },
    )
    return person, address


def paid_order(shop, person, address, product, quantity=1) -> Order:
    order = place(shop, person, address, product, quantity=quantity)
    pay(order)
    order.refresh_from_db()
    return order


def receive(order, owner) -> Order:
    """Ship and confirm receipt, then deliver the outbox (rewards are created there)."""
    order_ship(actor=owner, order_id=order.pk, carrier="中通", tracking_number="ZT" + secrets.token_hex(4))
    lifecycle.order_confirm_receipt(order_id=order.pk, actor=order.shopper)
    deliver_events()
    order.refresh_from_db()
    return order


def completed(shop, person, address, product, owner, quantity=1) -> Order:
    return receive(paid_order(shop, person, address, product, quantity=quantity), owner)


def refund(shop, owner, order, quantity=1, reason="quality"):
    line = order.lines.get()
    sale = aftersales.aftersale_request(
        shop=shop,
        shopper=order.shopper,
        order_public_id=order.public_id,
        line_id=line.pk,
        kind="refund_only",
        quantity=quantity,
        reason_code=reason,
    )
    aftersale_review(actor=owner, shop=shop, public_id=sale.public_id, approve=True)
    return sale  # the refund settles after commit: refresh it after the caller's capture block


__all__ = ["completed", "deliver_events", "paid_order", "receive", "refund", "shopper_with_address"]
