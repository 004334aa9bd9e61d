"""Console pages for bargains (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import bargains

urlpatterns: list = [
    path("bargains/", bargains.campaign_list, name="bargain_campaigns"),
    path("bargains/new/", bargains.campaign_new, name="bargain_campaign_new"),
    path("bargains/<slug:public_id>/", bargains.campaign_detail, name="bargain_campaign"),
    path("bargains/<slug:public_id>/end/", bargains.campaign_end, name="bargain_campaign_end"),
]
