"""Staff actions on webhook endpoints: register, disable, enable, rotate the secret, delete, resend.

Every action needs `integrations.manage` (owners) and is scoped to the actor's shop; each writes an
audit row. A secret leaves only in the return value of `endpoint_create` and
`endpoint_rotate_secret`, for the caller to show once.

Locks: the endpoint row (rank SHOP: a shop-level row), then its deliveries (pk order).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.ids import public_id
from siyu.core.permissions import Actor, require
from siyu.shops.models import Shop

from .guard import url_check
from .models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint
from .payloads import webhook_topics
from .signing import secret_new

PERM = "integrations.manage"
MAX_ENDPOINTS = 10
MAX_GRACE_HOURS = 72
DEFAULT_GRACE_HOURS = 24


def events_clean(events: list[str] | None) -> list[str]:
    """Known topics (or "*" alone for all), without repeats, in the documented order."""
    wanted = [str(e).strip() for e in (events or [])]
    if not wanted:
        raise InvalidInput(_("Choose at least one event."), detail={"events": "required"})
    known = webhook_topics()
    unknown = sorted({e for e in wanted if e != "*" and e not in known})
    if unknown:
        raise InvalidInput(_("Some events are unknown."), detail={"events": {"unknown": unknown[:20]}})
    if "*" in wanted:
        return ["*"]
    return [t for t in known if t in wanted]


def endpoint_create(
    *, actor: Actor, shop: Shop, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its signing secret (returned once, stored encrypted)."""
    require(actor, PERM, shop_id=shop.pk)
    clean_events = events_clean(events)
    description = (description or "").strip()
    if len(description) > 200:
        raise InvalidInput(_("The description is at most 200 characters."), detail={"description": "too long"})
    clean_url = url_check(url)  # resolves the host: outside the transaction
    secret = secret_new()
    with transaction.atomic():
        locks.lock_rows(Shop.objects.filter(pk=shop.pk), rank=locks.SHOP)  # the count below is per shop
        if WebhookEndpoint.objects.filter(shop=shop).count() >= MAX_ENDPOINTS:
            raise Conflict(
                _("A shop can have at most %(n)s webhook endpoints.") % {"n": MAX_ENDPOINTS},
                code="webhook_limit",
                detail={"limit": MAX_ENDPOINTS},
            )
        endpoint = WebhookEndpoint.objects.create(
            shop=shop,
            public_id=public_id(16),
            url=clean_url,
            events=clean_events,
            description=description,
            secret=secret,
        )
        audit_record(shop_id=shop.pk, actor=actor, action="webhook.create", target=endpoint, data={"url": clean_url})
    return endpoint, secret


def _locked(*, actor: Actor, shop: Shop, endpoint_id: str) -> WebhookEndpoint:
    require(actor, PERM, shop_id=shop.pk)
    found = locks.lock_rows(WebhookEndpoint.objects.filter(shop=shop, public_id=str(endpoint_id)[:20]), rank=locks.SHOP)
    if not found:
        raise NotFound(detail={"webhook": str(endpoint_id)[:20]})
    return found[0]


def endpoint_disable(*, actor: Actor, shop: Shop, endpoint_id: str) -> WebhookEndpoint:
    """Stop sending to it. Deliveries still due wait, and go out if it is enabled again."""
    with transaction.atomic():
        endpoint = _locked(actor=actor, shop=shop, endpoint_id=endpoint_id)
        if endpoint.status != EndpointStatus.DISABLED:
            endpoint.status, endpoint.disabled_reason, endpoint.disabled_at = (
                EndpointStatus.DISABLED,
                "manual",
                timezone.now(),
            )
            endpoint.save(update_fields=["status", "disabled_reason", "disabled_at"])
            audit_record(shop_id=shop.pk, actor=actor, action="webhook.disable", target=endpoint)
    return endpoint


def endpoint_enable(*, actor: Actor, shop: Shop, endpoint_id: str) -> WebhookEndpoint:
    """Send to it again, with a clean failure count; deliveries still due go out at once."""
    with transaction.atomic():
        endpoint = _locked(actor=actor, shop=shop, endpoint_id=endpoint_id)
        if endpoint.status != EndpointStatus.ENABLED:
            endpoint.status, endpoint.disabled_reason, endpoint.disabled_at = EndpointStatus.ENABLED, "", None
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            endpoint.save(
                update_fields=["status", "disabled_reason", "disabled_at", "consecutive_failures", "failing_since"]
            )
            WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
                next_attempt_at=timezone.now()
            )
            audit_record(shop_id=shop.pk, actor=actor, action="webhook.enable", target=endpoint)
    return endpoint


def endpoint_rotate_secret(
    *, actor: Actor, shop: Shop, endpoint_id: str, grace_hours: int = DEFAULT_GRACE_HOURS
) -> tuple[WebhookEndpoint, str]:
    """A new secret (returned once). For `grace_hours` (0 to 72) deliveries are signed with both,
    so the receiver can switch without missing one; 0 retires the old secret at once."""
    if isinstance(grace_hours, bool) or not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise InvalidInput(_("The grace period is 0 to 72 hours."), detail={"grace_hours": "0 to 72"})
    secret = secret_new()
    with transaction.atomic():
        endpoint = _locked(actor=actor, shop=shop, endpoint_id=endpoint_id)
        now = timezone.now()
        endpoint.previous_secret = endpoint.secret if grace_hours else ""
        endpoint.previous_secret_until = now + timedelta(hours=grace_hours) if grace_hours else None
        endpoint.secret = secret
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
        audit_record(
            shop_id=shop.pk, actor=actor, action="webhook.rotate", target=endpoint, data={"grace_hours": grace_hours}
        )
    return endpoint, secret


def endpoint_delete(*, actor: Actor, shop: Shop, endpoint_id: str) -> None:
    """Remove it and its delivery history (the audit row keeps who did it)."""
    with transaction.atomic():
        endpoint = _locked(actor=actor, shop=shop, endpoint_id=endpoint_id)
        audit_record(shop_id=shop.pk, actor=actor, action="webhook.delete", target=endpoint, data={"url": endpoint.url})
        endpoint.delete()


def delivery_resend(*, actor: Actor, shop: Shop, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """Send one delivery again now, with the same event id and body. A delivery still retrying is
    brought forward; a finished one (delivered or given up) gets one more attempt."""
    with transaction.atomic():
        endpoint = _locked(actor=actor, shop=shop, endpoint_id=endpoint_id)
        found = locks.lock_rows(
            WebhookDelivery.objects.filter(endpoint=endpoint, public_id=str(delivery_id)[:20]), rank=locks.SHOP
        )
        if not found:
            raise NotFound(detail={"delivery": str(delivery_id)[:20]})
        delivery = found[0]
        if endpoint.status != EndpointStatus.ENABLED:
            raise Conflict(_("Enable the endpoint before sending to it."), code="webhook_disabled")
        if delivery.status == DeliveryStatus.SENDING:
            raise Conflict(_("This delivery is being sent right now."), code="webhook_sending")
        if delivery.status != DeliveryStatus.PENDING:
            delivery.max_attempts = delivery.attempts + 1
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, timezone.now()
        delivery.save(update_fields=["status", "next_attempt_at", "max_attempts"])
        audit_record(shop_id=shop.pk, actor=actor, action="webhook.resend", target=delivery)
        pk = delivery.pk
        transaction.on_commit(lambda: _enqueue(pk))
    return delivery


def _enqueue(delivery_id: int) -> None:
    from .delivery import delivery_enqueue

    delivery_enqueue(delivery_id)
