from django.apps import AppConfig


class CliConfig(AppConfig):
    name = "siyu.cli"
    label = "cli"
