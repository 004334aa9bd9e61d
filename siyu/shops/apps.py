from django.apps import AppConfig


class ShopsConfig(AppConfig):
    name = "siyu.shops"
    label = "shops"
