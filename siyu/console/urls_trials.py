"""Console pages for trials (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import trials

urlpatterns: list = [
    path("trials/", trials.trial_list, name="trials"),
    path("trials/new/", trials.trial_form, name="trial_new"),
    path("trials/<slug:public_id>/", trials.trial_detail, name="trial"),
    path("trials/<slug:public_id>/edit/", trials.trial_form, name="trial_edit"),
    path("trials/<slug:public_id>/action/", trials.trial_action, name="trial_action"),
]
