"""Storefront pages for groupbuys (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
