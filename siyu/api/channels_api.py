"""API operations for channels.

`console_router` joins /api/v1/console/, `storefront_router` joins /api/v1/storefront/.
"""

from ninja import Router

from .auth import shopper_auth, staff_auth

console_router = Router(tags=["console channels"], auth=staff_auth)
storefront_router = Router(tags=["storefront channels"], auth=shopper_auth)
