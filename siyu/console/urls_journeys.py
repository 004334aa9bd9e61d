"""Console pages for journeys (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
