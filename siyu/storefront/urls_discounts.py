"""Storefront pages for discounts (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
