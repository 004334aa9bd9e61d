"""Console pages for reviews (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
