"""Storefront pages for content (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
