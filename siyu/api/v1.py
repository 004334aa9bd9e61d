"""The REST API, version 1: one NinjaAPI with a storefront and a console router."""

from . import (
    analytics_api,
    bargains_api,
    channels_api,
    clv_api,
    commissions_console,
    console,
    console_catalog,
    console_media,
    console_staff,  # noqa: F401 (its operations join the console router, which owns GET /staff)
    content_api,
    coupons_api,
    customers_console,
    discounts_api,
    fission_console,
    fission_storefront,
    flashsales_api,
    groupbuys_api,
    groups_api,
    journeys_api,
    orders_console,
    orders_storefront,
    outreach_api,
    pickup_api,
    reviews_api,
    storefront,
    trials_api,
    webhooks_api,
)
from .errors import install_error_handlers
from .member_storefront import router as member_storefront_router
from .openapi import DocumentedAPI
from .parser import StrictParser

api = DocumentedAPI(
    title="Siyu API",
    version="1",
    description=(
        "Storefront (shoppers) and console (staff) endpoints. Money is integer fen (1/100 yuan). "
        "Sign in with `Authorization: Bearer sy_…` (a token works only on its own shop) or with the "
        "session cookie, sending X-CSRFToken on unsafe methods. Bodies are JSON "
        "(`Content-Type: application/json`), or multipart/form-data where an operation takes files; "
        "anything else is refused with 415. Every error body is "
        '{"code", "message", "detail", "request_id"}; invalid input is 400 (never 422), and the '
        "request id is also in the X-Request-ID response header."
    ),
    parser=StrictParser(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,  # the docs page lives at /api/docs, outside the versioned prefix
)
install_error_handlers(api)
storefront.router.add_router("", orders_storefront.router)
storefront.router.add_router("", fission_storefront.router)
storefront.router.add_router("", member_storefront_router)
storefront.router.add_router("", coupons_api.storefront_router)
storefront.router.add_router("", discounts_api.storefront_router)
storefront.router.add_router("", flashsales_api.storefront_router)
storefront.router.add_router("", groupbuys_api.storefront_router)
storefront.router.add_router("", bargains_api.storefront_router)
storefront.router.add_router("", analytics_api.storefront_router)
storefront.router.add_router("", webhooks_api.storefront_router)
storefront.router.add_router("", reviews_api.storefront_router)
storefront.router.add_router("", channels_api.storefront_router)
storefront.router.add_router("", outreach_api.storefront_router)
storefront.router.add_router("", pickup_api.storefront_router)
storefront.router.add_router("", groups_api.storefront_router)
storefront.router.add_router("", content_api.storefront_router)
storefront.router.add_router("", trials_api.storefront_router)
storefront.router.add_router("", journeys_api.storefront_router)
api.add_router("/storefront/", storefront.router)
# The console is one router; its catalogue half lives in its own module to keep modules small.
console.router.add_router("", console_catalog.router)
console.router.add_router("", orders_console.router)
console.router.add_router("", customers_console.router)
console.router.add_router("", fission_console.router)
console.router.add_router("", console_media.router)
console.router.add_router("", commissions_console.router)
console.router.add_router("", coupons_api.console_router)
console.router.add_router("", discounts_api.console_router)
console.router.add_router("", flashsales_api.console_router)
console.router.add_router("", groupbuys_api.console_router)
console.router.add_router("", bargains_api.console_router)
console.router.add_router("", analytics_api.console_router)
console.router.add_router("", clv_api.console_router)
console.router.add_router("", reviews_api.console_router)
console.router.add_router("", channels_api.console_router)
console.router.add_router("", outreach_api.console_router)
console.router.add_router("", webhooks_api.console_router)
console.router.add_router("", pickup_api.console_router)
console.router.add_router("", groups_api.console_router)
console.router.add_router("", content_api.console_router)
console.router.add_router("", trials_api.console_router)
console.router.add_router("", journeys_api.console_router)
api.add_router("/console/", console.router)
