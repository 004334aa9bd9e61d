from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "siyu.campaigns.journeys"
    label = "journeys"
