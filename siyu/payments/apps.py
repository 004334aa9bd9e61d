from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "siyu.payments"
    label = "payments"
