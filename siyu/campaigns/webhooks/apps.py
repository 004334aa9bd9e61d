from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "siyu.campaigns.webhooks"
    label = "webhooks"

    def ready(self):
        from . import handlers  # noqa: F401 - subscribes to the outbox
