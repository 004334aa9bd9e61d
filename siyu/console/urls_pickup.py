"""Console pages for pickup (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import pickup

urlpatterns: list = [
    path("pickup/points/", pickup.point_list, name="pickup_points"),
    path("pickup/points/new/", pickup.point_edit, name="pickup_point_new"),
    path("pickup/points/<slug:public_id>/", pickup.point_edit, name="pickup_point"),
    path("pickup/", pickup.pickup_orders, name="pickup_orders"),
    path("pickup/write-off/", pickup.pickup_writeoff, name="pickup_writeoff"),
    path("pickup/batches/", pickup.batch_list, name="pickup_batches"),
    path("pickup/batches/new/", pickup.batch_create, name="pickup_batch_new"),
    path("pickup/batches/<slug:public_id>/", pickup.batch_detail, name="pickup_batch"),
    path("pickup/batches/<slug:public_id>/ship/", pickup.batch_ship, name="pickup_batch_ship"),
    path("pickup/batches/<slug:public_id>/print/", pickup.batch_print, name="pickup_batch_print"),
]
