"""Promotions: coupons, 满减, limited-time and member prices, flash sales, group buys, bargains.

Each kind is its own Django app below this package; checkout reaches them through the hooks in
siyu.orders.pricing, and they follow orders through the order events."""
