"""Console pages for discounts (joined to the console namespace by siyu/console/urls.py)."""

from django.urls import path

from .views import discounts

urlpatterns: list = [
    path("discounts/", discounts.discount_list, name="discounts"),
    path("discounts/thresholds/new/", discounts.threshold_new, name="discount_threshold_new"),
    path("discounts/thresholds/<str:public_id>/", discounts.threshold_edit, name="discount_threshold_edit"),
    path("discounts/thresholds/<str:public_id>/end/", discounts.threshold_end, name="discount_threshold_end"),
    path("discounts/limited/new/", discounts.limited_new, name="discount_limited_new"),
    path("discounts/limited/<str:public_id>/", discounts.limited_edit, name="discount_limited_edit"),
    path("discounts/limited/<str:public_id>/end/", discounts.limited_end, name="discount_limited_end"),
    path("discounts/member-prices/", discounts.member_price_pick, name="discount_member_price_pick"),
    path("discounts/member-prices/<str:public_id>/", discounts.member_price_matrix, name="discount_member_prices"),
]
