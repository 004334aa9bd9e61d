"""Console pages for channels (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import channels

urlpatterns: list = [
    path("channels/", channels.channel_settings, name="channel_settings"),
    path("channels/messages/", channels.message_log, name="channel_messages"),
]
