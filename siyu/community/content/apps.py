from django.apps import AppConfig


class ContentConfig(AppConfig):
    name = "siyu.community.content"
    label = "content"
