"""Console pages for channels (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
