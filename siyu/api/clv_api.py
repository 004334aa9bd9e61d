"""API operations for customer lifetime value.

`console_router` joins /api/v1/console/.
"""

from ninja import Router

from .auth import staff_auth

console_router = Router(tags=["console clv"], auth=staff_auth)
