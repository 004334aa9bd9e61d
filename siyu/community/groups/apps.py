from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "siyu.community.groups"
    label = "community_groups"
