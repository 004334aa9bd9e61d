from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "siyu.campaigns.outreach"
    label = "outreach"
