from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    """What all promotions share: which orders each promotion was used on, and its results."""

    name = "siyu.promotions"
    label = "promotions"
