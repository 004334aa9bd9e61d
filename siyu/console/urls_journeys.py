"""Console pages for journeys (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import journeys

urlpatterns: list = [
    path("journeys/", journeys.journey_list, name="journeys"),
    path("journeys/new/", journeys.journey_new, name="journey_new"),
    path("journeys/<slug:public_id>/", journeys.journey_detail, name="journey_detail"),
    path("journeys/<slug:public_id>/edit/", journeys.journey_edit, name="journey_edit"),
    path("journeys/<slug:public_id>/<slug:action>/", journeys.journey_action, name="journey_action"),
]
