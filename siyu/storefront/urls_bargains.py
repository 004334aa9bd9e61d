"""Storefront pages for bargains (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_bargains as views

urlpatterns: list = [
    path("bargains/start/", views.bargain_start_view, name="bargain_start"),
    path("bargains/<slug:public_id>/", views.bargain_page, name="bargain"),
    path("bargains/<slug:public_id>/help/", views.bargain_help_view, name="bargain_help"),
    path("bargains/<slug:public_id>/poster.png", views.bargain_poster, name="bargain_poster"),
    path("my/bargains/", views.my_bargains, name="my_bargains"),
]
