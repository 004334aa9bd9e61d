"""Storefront pages for outreach (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_outreach, views_unsubscribe

urlpatterns: list = [
    path("go/<str:code>/", views_outreach.campaign_link, name="campaign_link"),
    path("u/<str:token>/", views_unsubscribe.unsubscribe, name="unsubscribe"),
    path("sms/replies/<str:provider>/", views_outreach.sms_replies, name="sms_replies"),
]
