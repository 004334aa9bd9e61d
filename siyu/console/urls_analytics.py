"""Console pages for analytics (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import analytics

urlpatterns: list = [
    path("analytics/", analytics.trends, name="analytics_trends"),
    path("analytics/funnel/", analytics.funnel, name="analytics_funnel"),
    path("analytics/profit/", analytics.profit, name="analytics_profit"),
    path("analytics/cohorts/", analytics.cohorts, name="analytics_cohorts"),
    path("analytics/repurchase/", analytics.repurchase, name="analytics_repurchase"),
    path("analytics/repurchase/<str:public_id>/cycle/", analytics.cycle_apply, name="analytics_cycle_apply"),
]
