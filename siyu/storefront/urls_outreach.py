"""Storefront pages for outreach (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
