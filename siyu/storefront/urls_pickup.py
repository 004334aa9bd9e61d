"""Storefront pages for pickup (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_pickup

urlpatterns: list = [
    path("orders/<slug:public_id>/pickup-qr.png", views_pickup.pickup_qr, name="pickup_qr"),
    path("my/pickup/verify/", views_pickup.keeper_verify, name="pickup_keeper"),
]
