"""Console pages for webhooks (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import webhooks

urlpatterns: list = [
    path("webhooks/", webhooks.webhook_list, name="webhooks"),
    path("webhooks/<slug:endpoint_id>/", webhooks.webhook_detail, name="webhook_detail"),
    path(
        "webhooks/<slug:endpoint_id>/<slug:action>/",
        webhooks.webhook_action,
        name="webhook_action",
    ),
    path(
        "webhooks/<slug:endpoint_id>/deliveries/<slug:delivery_id>/resend/",
        webhooks.webhook_resend,
        name="webhook_resend",
    ),
]
