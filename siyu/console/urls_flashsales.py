"""Console pages for flashsales (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import flashsales

urlpatterns: list = [
    path("flash-sales/", flashsales.flash_sessions, name="flash_sessions"),
    path("flash-sales/<slug:session_id>/", flashsales.flash_session, name="flash_session"),
    path("flash-sales/<slug:session_id>/action/", flashsales.flash_session_action, name="flash_session_action"),
]
