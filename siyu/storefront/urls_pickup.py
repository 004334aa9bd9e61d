"""Storefront pages for pickup (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
