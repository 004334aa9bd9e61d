"""Console pages for analytics (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
