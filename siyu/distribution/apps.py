from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "siyu.distribution"
    label = "distribution"

    def ready(self):
        from . import handlers  # noqa: F401 - subscribes to order events
