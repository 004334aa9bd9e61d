from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "siyu.community.trials"
    label = "trials"
