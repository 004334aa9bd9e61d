from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "siyu.promotions.coupons"
    label = "coupons"

    def ready(self):
        from . import handlers  # noqa: F401 - checkout adjuster, order events, rules
