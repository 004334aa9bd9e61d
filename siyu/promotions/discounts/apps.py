from django.apps import AppConfig


class DiscountsConfig(AppConfig):
    name = "siyu.promotions.discounts"
    label = "discounts"
