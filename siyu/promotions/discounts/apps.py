from django.apps import AppConfig


class DiscountsConfig(AppConfig):
    """满减 / 满折 activities, limited-time discounts and member prices."""

    name = "siyu.promotions.discounts"
    label = "discounts"

    def ready(self):
        from . import hooks  # noqa: F401 - registers the checkout hooks and order subscribers
