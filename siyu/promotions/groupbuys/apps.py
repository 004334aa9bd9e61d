from django.apps import AppConfig


class GroupbuysConfig(AppConfig):
    name = "siyu.promotions.groupbuys"
    label = "groupbuys"

    def ready(self) -> None:
        from . import handlers  # noqa: F401  (subscriptions and checkout hooks register on import)
