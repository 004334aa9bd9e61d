"""Storefront pages for reviews (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_reviews

urlpatterns: list = [
    path("p/<slug:public_id>/reviews/", views_reviews.product_reviews, name="product_reviews"),
    path("orders/<slug:public_id>/lines/<int:line_id>/review/", views_reviews.line_review, name="line_review"),
    path("my/reviews/", views_reviews.my_reviews, name="my_reviews"),
]
