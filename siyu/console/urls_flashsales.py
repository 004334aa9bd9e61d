"""Console pages for flashsales (joined to the console namespace by siyu/console/urls.py)."""

urlpatterns: list = []
