"""Storefront pages for coupons (joined to the storefront namespace by siyu/storefront/urls.py)."""

urlpatterns: list = []
