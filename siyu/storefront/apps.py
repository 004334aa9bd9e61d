from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "siyu.storefront"
    label = "storefront"
