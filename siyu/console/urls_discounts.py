"""Console pages for discounts (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
