"""Console pages for customer lifetime value (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
