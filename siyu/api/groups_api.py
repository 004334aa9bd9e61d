"""API operations for groups: a console router and a storefront router, joined in siyu/api/v1.py."""

from ninja import Router

console_router = Router(tags=["groups"])
storefront_router = Router(tags=["groups"])
