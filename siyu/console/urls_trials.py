"""Console pages for trials (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
