from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "siyu.community.trials"
    label = "trials"

    def ready(self):
        from . import pricing  # noqa: F401 - the checkout hooks and the order subscriptions
