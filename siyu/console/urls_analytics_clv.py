"""Console pages for customer lifetime value (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import analytics_clv

urlpatterns: list = [
    path("analytics/win-back/", analytics_clv.winback, name="clv_winback"),
    path("analytics/win-back/export.csv", analytics_clv.winback_export, name="clv_winback_export"),
    path("analytics/clv/refit/", analytics_clv.clv_refit, name="clv_refit"),
]
