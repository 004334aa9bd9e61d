"""Storefront pages for groupbuys (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_groupbuys

urlpatterns: list = [
    path("groups/<str:public_id>/", views_groupbuys.group_page, name="group"),
    path("groups/<str:public_id>/poster.png", views_groupbuys.group_poster, name="group_poster"),
    path("me/groups/", views_groupbuys.my_groups, name="my_groups"),
]
