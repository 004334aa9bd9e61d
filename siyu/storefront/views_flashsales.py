"""The flash-sale page (秒杀): sessions running now or starting soon, their items with progress and
a countdown. Buying is "buy now" only: each item links straight to checkout with its promotion."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from siyu.promotions.flashsales.selectors import flash_sales_on, flash_sessions_for_shopper


@require_GET
def flash_sales(request):
    shop = request.shop
    sessions = flash_sessions_for_shopper(shop=shop) if flash_sales_on(shop_id=shop.pk) else []
    return render(request, "storefront/flashsales/page.html", {"sessions": sessions, "now": timezone.now()})
