from django.apps import AppConfig


class FlashsalesConfig(AppConfig):
    """Flash sales (秒杀): sessions, flash stock taken from the SKUs, per-customer limits."""

    name = "siyu.promotions.flashsales"
    label = "flashsales"

    def ready(self):
        from . import handlers  # noqa: F401 - the line pricer and the order subscribers
