"""Console pages for coupons (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
