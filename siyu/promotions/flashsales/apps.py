from django.apps import AppConfig


class FlashsalesConfig(AppConfig):
    name = "siyu.promotions.flashsales"
    label = "flashsales"
