"""Storefront pages for bargains (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
