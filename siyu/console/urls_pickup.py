"""Console pages for pickup (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
