"""Storefront pages for coupons (joined to the storefront namespace by siyu/storefront/urls.py)."""

from django.urls import path

from . import views_coupons

urlpatterns: list = [
    path("coupons/", views_coupons.coupon_centre, name="coupon_centre"),
    path("my/coupons/", views_coupons.my_coupons, name="my_coupons"),
    path("coupons/<slug:public_id>/", views_coupons.coupon_page, name="coupon"),
    path("coupons/<slug:public_id>/poster.png", views_coupons.coupon_poster, name="coupon_poster"),
]
