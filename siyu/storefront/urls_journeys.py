"""Storefront pages for journeys (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_journeys

urlpatterns: list = [
    path("j/<str:code>/", views_journeys.journey_link, name="journey_link"),
]
