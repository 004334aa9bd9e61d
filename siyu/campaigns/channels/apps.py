from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "siyu.campaigns.channels"
    label = "channels"
