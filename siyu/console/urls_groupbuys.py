"""Console pages for groupbuys (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import groupbuys

urlpatterns: list = [
    path("group-buys/", groupbuys.group_buys, name="group_buys"),
    path("group-buys/new/", groupbuys.group_buy_new, name="group_buy_new"),
    path("group-buys/<slug:campaign_id>/", groupbuys.group_buy, name="group_buy"),
    path("group-buys/<slug:campaign_id>/edit/", groupbuys.group_buy_edit, name="group_buy_edit"),
    path("group-buys/<slug:campaign_id>/stop/", groupbuys.group_buy_stop, name="group_buy_stop"),
]
