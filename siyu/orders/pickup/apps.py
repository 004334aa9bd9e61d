from django.apps import AppConfig


class PickupConfig(AppConfig):
    name = "siyu.orders.pickup"
    label = "pickup"
