from django.apps import AppConfig


class BargainsConfig(AppConfig):
    name = "siyu.promotions.bargains"
    label = "bargains"
