from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "siyu.community.reviews"
    label = "reviews"
