"""Console pages for content (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
