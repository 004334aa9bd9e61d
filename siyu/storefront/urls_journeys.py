"""Storefront pages for journeys (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
