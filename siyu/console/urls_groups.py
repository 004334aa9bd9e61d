"""Console pages for groups (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
