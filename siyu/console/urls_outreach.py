"""Console pages for outreach (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import outreach

urlpatterns: list = [
    path("campaigns/", outreach.campaign_list, name="campaigns"),
    path("campaigns/new/", outreach.campaign_new, name="campaign_new"),
    path("campaigns/<slug:public_id>/", outreach.campaign_detail, name="campaign_detail"),
    path("campaigns/<slug:public_id>/<slug:action>/", outreach.campaign_action, name="campaign_action"),
]
