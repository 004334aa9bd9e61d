"""Console pages for webhooks (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
