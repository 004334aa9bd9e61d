"""Console pages for reviews (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import reviews

urlpatterns: list = [
    path("reviews/", reviews.review_list, name="reviews"),
    path("reviews/settings/", reviews.review_settings, name="review_settings"),
    path("reviews/<slug:public_id>/action/", reviews.review_action, name="review_action"),
]
