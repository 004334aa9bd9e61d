"""Storefront pages for trials (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
