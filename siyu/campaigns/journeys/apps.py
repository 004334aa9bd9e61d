from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "siyu.campaigns.journeys"
    label = "journeys"

    def ready(self):
        from siyu.customers import reminders

        from . import handlers  # noqa: F401 - subscribes to customer.created
        from .engine import repurchase_journey_on

        if repurchase_journey_on not in reminders.message_takers:
            reminders.message_takers.append(repurchase_journey_on)
