"""Reactions to order events: the customer's figures follow their orders."""

from siyu.core.events import subscribe
from siyu.orders.models import Order

from .stats import customer_for_shopper, customer_refresh_stats


def _refresh(event) -> None:
    order = Order.objects.select_related("shop", "shopper").filter(pk=event.payload.get("order")).first()
    if order is None:
        return
    customer = customer_for_shopper(shop=order.shop, shopper=order.shopper)
    customer_refresh_stats(customer=customer)


for topic in ("order.placed", "order.paid", "order.completed", "order.refunded", "order.cancelled"):
    subscribe(topic)(_refresh)

from . import pricing_hooks  # noqa: E402,F401 - membership and points: checkout adjuster, order reactions
