"""Reads for the console and the API, always scoped by shop."""

from django.db.models import QuerySet

from siyu.core.errors import NotFound
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

PERM = "integrations.manage"  # reading them too: their URLs and deliveries describe the shop's systems


def endpoints_of(*, actor: Actor, shop: Shop) -> list[WebhookEndpoint]:
    """The shop's endpoints (at most ten), oldest first: one query."""
    require(actor, PERM, shop_id=shop.pk)
    return list(WebhookEndpoint.objects.filter(shop=shop).order_by("id"))


def endpoint_get(*, actor: Actor, shop: Shop, endpoint_id: str) -> WebhookEndpoint:
    require(actor, PERM, shop_id=shop.pk)
    endpoint = WebhookEndpoint.objects.filter(shop=shop, public_id=str(endpoint_id)[:20]).first()
    if endpoint is None:
        raise NotFound(detail={"webhook": str(endpoint_id)[:20]})
    return endpoint


def deliveries_of(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    """Newest first, with their events (one join): page it with limit/offset."""
    rows = WebhookDelivery.objects.filter(endpoint=endpoint, shop_id=endpoint.shop_id).select_related("event")
    if status:
        if status not in DeliveryStatus.values:
            return rows.none()
        rows = rows.filter(status=status)
    return rows.order_by("-id")


def delivery_get(*, endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.filter(endpoint=endpoint, public_id=str(delivery_id)[:20])
        .select_related("event")
        .first()
    )
    if delivery is None:
        raise NotFound(detail={"delivery": str(delivery_id)[:20]})
    return delivery
