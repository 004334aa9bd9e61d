from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "siyu.referrals"
    label = "referrals"

    def ready(self):
        from . import handlers  # noqa: F401 - subscribes to order events
