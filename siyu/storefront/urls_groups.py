"""Storefront pages for groups (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
