"""Console pages for channels (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import channel_addresses, channels

urlpatterns: list = [
    path("channels/", channels.channel_settings, name="channel_settings"),
    path("channels/messages/", channels.message_log, name="channel_messages"),
    path("channels/addresses/import/", channel_addresses.address_import, name="channel_address_import"),
    path(
        "customers/<str:public_id>/addresses/",
        channel_addresses.customer_address_set,
        name="customer_address_set",
    ),
    path(
        "customers/<str:public_id>/addresses/<str:channel>/remove/",
        channel_addresses.customer_address_remove,
        name="customer_address_remove",
    ),
]
