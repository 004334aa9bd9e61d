"""Console pages for coupons (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import coupons

urlpatterns: list = [
    path("coupons/", coupons.coupons, name="coupons"),
    path("coupons/new/", coupons.coupon_new, name="coupon_new"),
    path("coupons/<slug:public_id>/", coupons.coupon_detail, name="coupon"),
    path("coupons/<slug:public_id>/edit/", coupons.coupon_edit, name="coupon_edit"),
    path("coupons/<slug:public_id>/action/", coupons.coupon_action, name="coupon_action"),
]
