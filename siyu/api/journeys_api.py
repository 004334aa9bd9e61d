"""API operations for journeys: a console router and a storefront router, joined in siyu/api/v1.py."""

from ninja import Router

console_router = Router(tags=["journeys"])
storefront_router = Router(tags=["journeys"])
