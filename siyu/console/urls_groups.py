"""Console pages for groups (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import groups

urlpatterns: list = [
    path("groups/", groups.group_list, name="groups"),
    path("groups/new/", groups.group_new, name="group_new"),
    path("groups/<slug:public_id>/", groups.group_detail, name="group_detail"),
    path("groups/<slug:public_id>/edit/", groups.group_edit, name="group_edit"),
    path("groups/<slug:public_id>/members/add/", groups.group_member_add, name="group_member_add"),
    path("groups/<slug:public_id>/members/remove/", groups.group_member_remove, name="group_member_remove"),
]
