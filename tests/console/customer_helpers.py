"""Making customer-pool rows for console and API tests, without going through an import."""

import itertools
from datetime import timedelta

from django.utils import timezone

from siyu.core.crypto import lookup_hash
from siyu.core.ids import public_id
from siyu.customers.models import Customer, ExternalOrder, Source

_seq = itertools.count(1)


def make_customer(shop, *, phone: str | None = None, name: str = "", **extra) -> Customer:
    phone = phone or f"137{next(_seq):08d}"
    return Customer.objects.create(
        shop=shop, public_id=public_id(12), phone_hash=lookup_hash(phone), phone=phone, name=name, **extra
    )


def make_customers(shop, n: int, **extra) -> list[Customer]:
    return [make_customer(shop, name=f"客户{i}", **extra) for i in range(n)]


def make_external_order(customer, *, amount: int = 5000, days_ago: int = 10, source: str = Source.TAOBAO):
    return ExternalOrder.objects.create(
        shop=customer.shop,
        customer=customer,
        source=source,
        external_id=public_id(16),
        placed_at=timezone.now() - timedelta(days=days_ago),
        amount=amount,
        items="茶叶 ×1",
    )
