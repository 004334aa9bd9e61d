from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "siyu.community.groups"
    label = "community_groups"

    def ready(self):
        from . import handlers  # noqa: F401 - subscribes to order events
