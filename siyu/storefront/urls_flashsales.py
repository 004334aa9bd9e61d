"""Storefront pages for flashsales (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_flashsales

urlpatterns: list = [
    path("flash-sale/", views_flashsales.flash_sales, name="flash_sales"),
]
