from django.apps import AppConfig


class GroupbuysConfig(AppConfig):
    name = "siyu.promotions.groupbuys"
    label = "groupbuys"
