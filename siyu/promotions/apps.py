"""Promotions: coupons, 满减, limited-time and member prices, flash sales, group buys, bargains.

Each kind is its own Django app below this package; checkout reaches them through the hooks in
siyu.orders.pricing, and they follow orders through the order events."""

from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    """What all promotions share: which orders each promotion was used on, and its results."""

    name = "siyu.promotions"
    label = "promotions"

    def ready(self):
        from . import handlers  # noqa: F401 - records promotion uses when orders are placed
