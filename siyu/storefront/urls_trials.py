"""Storefront pages for trials (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_trials

urlpatterns: list = [
    path("trials/<slug:public_id>/", views_trials.trial_page, name="trial"),
    path("my/trials/", views_trials.my_trials, name="my_trials"),
    path("my/trials/<slug:application_id>/report/", views_trials.trial_report, name="trial_report"),
]
