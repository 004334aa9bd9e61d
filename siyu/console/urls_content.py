"""Console pages for content (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import content

urlpatterns: list = [
    path("content/", content.post_list, name="content"),
    path("content/new/", content.post_create, name="content_post_create"),
    path("content/personas/", content.persona_list, name="content_personas"),
    path("content/personas/<slug:public_id>/", content.persona_edit, name="content_persona"),
    path("content/personas/<slug:public_id>/delete/", content.persona_delete, name="content_persona_delete"),
    path("content/<slug:code>/", content.post_edit, name="content_post"),
    path("content/<slug:code>/schedule/", content.post_schedule, name="content_post_schedule"),
    path("content/<slug:code>/delete/", content.post_delete, name="content_post_delete"),
]
