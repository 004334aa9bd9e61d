"""Keeping each customer's figures (orders, spend, first and last order) in step with the facts."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import Coalesce

from siyu.accounts.models import Shopper
from siyu.core.events import event_record
from siyu.core.ids import public_id
from siyu.orders.models import Order, OrderStatus
from siyu.shops.models import Shop

from .models import Customer, ExternalOrder, Lifecycle, Source

COUNTED = [OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED]


def customer_for_shopper(*, shop: Shop, shopper: Shopper) -> Customer:
    """The shop's record of a shopper, made on first contact; an imported record with the same
    phone is linked instead of duplicated."""
    customer = Customer.objects.filter(shop=shop, phone_hash=shopper.phone_hash).first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(
                    shop=shop,
                    shopper=shopper,
                    public_id=public_id(12),
                    phone_hash=shopper.phone_hash,
                    phone=shopper.phone,
                    name=shopper.nickname,
                    source=Source.STORE,
                )
                event_record(topic="customer.created", shop_id=shop.pk, payload={"customer": customer.pk})
        except IntegrityError:
            customer = Customer.objects.get(shop=shop, phone_hash=shopper.phone_hash)
    if customer.shopper_id is None:
        Customer.objects.filter(pk=customer.pk).update(shopper=shopper)
        customer.shopper = shopper
    return customer


def customer_refresh_stats(*, customer: Customer) -> Customer:
    """Recompute from own orders and imported ones. Idempotent: safe to run on every event."""
    own: dict[str, Any] = {"n": 0, "spent": 0, "first": None, "last": None}
    if customer.shopper_id is not None:
        own = Order.objects.filter(
            shop_id=customer.shop_id, shopper_id=customer.shopper_id, status__in=COUNTED
        ).aggregate(
            n=Count("id"),
            spent=Coalesce(Sum("paid_amount"), 0) - Coalesce(Sum("refunded_amount"), 0),
            first=Min("paid_at"),
            last=Max("paid_at"),
        )
    ext = ExternalOrder.objects.filter(customer=customer).aggregate(
        n=Count("id"), spent=Coalesce(Sum("amount"), 0), first=Min("placed_at"), last=Max("placed_at")
    )
    firsts = [d for d in (own["first"], ext["first"]) if d]
    lasts = [d for d in (own["last"], ext["last"]) if d]
    customer.order_count = own["n"] + ext["n"]
    customer.total_spent = own["spent"] + ext["spent"]
    customer.first_order_at = min(firsts) if firsts else None
    customer.last_order_at = max(lasts) if lasts else None
    if customer.order_count and customer.lifecycle == Lifecycle.PROSPECT:
        customer.lifecycle = Lifecycle.NEW
    customer.save(update_fields=["order_count", "total_spent", "first_order_at", "last_order_at", "lifecycle"])
    return customer


def customers_refresh_stats_bulk(*, shop: Shop, customer_ids: list[int] | None = None) -> int:
    """The same figures for many customers at once, in SQL (after an import, or nightly)."""
    qs = Customer.objects.filter(shop=shop)
    if customer_ids is not None:
        qs = qs.filter(pk__in=customer_ids)
    done = 0
    for customer in qs.iterator(chunk_size=2000):
        customer_refresh_stats(customer=customer)
        done += 1
    return done


def paid_filter() -> Q:
    return Q(status__in=COUNTED)
