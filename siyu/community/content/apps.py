from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "siyu.community.content"
    label = "content"

    def ready(self) -> None:
        from . import handlers  # noqa: F401 (registers the order.placed subscriber)
