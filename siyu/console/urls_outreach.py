"""Console pages for outreach (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
