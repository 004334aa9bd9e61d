"""Storefront pages for content (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_content

urlpatterns: list = [
    path("m/today/", views_content.today, name="content_today"),
    path("m/<slug:code>/", views_content.post_link, name="content_post"),
    path("m/<slug:code>/poster.png", views_content.post_poster, name="content_poster"),
    path("m/<slug:code>/share/", views_content.post_share, name="content_share"),
]
