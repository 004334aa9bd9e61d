"""Storefront pages for reviews (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
