from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "siyu.customers"
    label = "customers"

    def ready(self):
        from . import handlers  # noqa: F401 - subscribes to order events
