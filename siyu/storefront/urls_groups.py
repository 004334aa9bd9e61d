"""Storefront pages for groups (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_groups

urlpatterns: list = [
    path("g/<slug:code>/", views_groups.group_join, name="group_join"),
    path("g/<slug:code>/leave/", views_groups.group_leave, name="group_leave"),
    path("g/<slug:code>/poster.png", views_groups.group_poster, name="group_poster"),
    path("my/groups/", views_groups.my_groups, name="my_groups"),
]
