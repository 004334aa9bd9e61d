"""Console pages for bargains (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
