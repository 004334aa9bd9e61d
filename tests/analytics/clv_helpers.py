"""Rows for the CLV tests: customers with own orders (paid, refunded, closed) and imported ones."""

import itertools
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from siyu.core.crypto import lookup_hash
from siyu.customers.models import Customer, ExternalOrder, Source
from siyu.orders.models import Order, OrderStatus
from tests.factories import make_shopper

_seq = itertools.count(1)


def at(day: date, hour: int = 12) -> datetime:
    """A moment of `day` in the shop's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


def make_customer(shop, *, with_shopper: bool = True, name: str = "") -> Customer:
    n = next(_seq)
    shopper = make_shopper() if with_shopper else None
    phone_hash = shopper.phone_hash if shopper else lookup_hash(f"138{n:08d}")
    return Customer.objects.create(
        shop=shop,
        shopper=shopper,
        public_id=f"cv{n:010d}",
        phone_hash=phone_hash,
        phone="13800000000",
        name=name or f"客户{n}",
        source=Source.STORE if shopper else Source.TAOBAO,
    )


def own_order(shop, customer, when: datetime, amount: int, *, refunded: int = 0, status=OrderStatus.PAID) -> Order:
    n = next(_seq)
    return Order.objects.create(
        shop=shop,
        public_id=f"o{n:012d}",
        number=f"N{n:012d}",
        shopper=customer.shopper,
        status=status,
        idempotency_key=f"k{n}",
        subtotal=amount,
        total=amount,
        paid_amount=amount if status != OrderStatus.PENDING_PAYMENT else 0,
        refunded_amount=refunded,
        recipient="张三",
        phone="13800000000",
        province="浙江省",
        city="杭州市",
        district="西湖区",
        address_detail="文三路 1 号",
        pay_deadline=when + timedelta(minutes=30),
        paid_at=when if status != OrderStatus.PENDING_PAYMENT else None,
    )


def external_order(shop, customer, when: datetime, amount: int) -> ExternalOrder:
    return ExternalOrder.objects.create(
        shop=shop, customer=customer, source=Source.TAOBAO, external_id=f"T{next(_seq)}", placed_at=when, amount=amount
    )


def synthetic_pool(shop, *, customers: int = 60, start: date = date(2024, 1, 1), seed: int = 7) -> date:
    """`customers` buyers with a spread of repeat buying (deterministic); returns the calibration end."""
    import random

    rng = random.Random(seed)
    end = start + timedelta(days=360)
    for i in range(customers):
        customer = make_customer(shop, with_shopper=i % 4 != 0)
        first = start + timedelta(days=rng.randrange(0, 120))
        days = [first]
        rate = rng.choice([0, 0, 0.01, 0.02, 0.05])
        day = first
        while rate and (day := day + timedelta(days=max(1, int(rng.expovariate(rate))))) <= end:
            if rng.random() < 0.004 * (day - first).days / 10:
                break  # dropped out
            days.append(day)
        for d in days:
            amount = rng.randrange(3000, 30000)
            if customer.shopper_id:
                own_order(shop, customer, at(d), amount)
            else:
                external_order(shop, customer, at(d), amount)
    return end
