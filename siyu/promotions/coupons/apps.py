from django.apps import AppConfig


class CouponsConfig(AppConfig):
    name = "siyu.promotions.coupons"
    label = "coupons"
