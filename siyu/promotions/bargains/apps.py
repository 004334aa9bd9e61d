from django.apps import AppConfig


class BargainsConfig(AppConfig):
    name = "siyu.promotions.bargains"
    label = "bargains"

    def ready(self):
        from . import handlers  # noqa: F401 - the line pricer and the order subscriptions
