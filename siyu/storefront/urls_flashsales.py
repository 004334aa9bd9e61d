"""Storefront pages for flashsales (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
