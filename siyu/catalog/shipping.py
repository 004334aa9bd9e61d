"""Postage rules, shared by checkout and the product page."""

from .models import ShippingTemplate

DEFAULT_REMOTE_PROVINCES = ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南"]


def is_remote(template: ShippingTemplate, province: str) -> bool:
    return any(province.startswith(p) for p in template.remote_provinces or [])


def shipping_fee(template: ShippingTemplate | None, *, subtotal: int, province: str = "") -> int:
    """Postage in fen for an order subtotal going to a province. No template means free."""
    if template is None:
        return 0
    surcharge = template.remote_surcharge if province and is_remote(template, province) else 0
    if template.free_over is not None and subtotal >= template.free_over:
        return surcharge
    return template.base_fee + surcharge
