"""Console pages for groupbuys (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
