from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "siyu.campaigns.webhooks"
    label = "webhooks"
