"""The transactional outbox: record typed events with the change, hand them to subscribers later.

A lower domain records `event_record(topic=..., payload=...)` inside its transaction. A higher domain
subscribes with `@subscribe("order.paid")` (registered in its AppConfig.ready). Handlers run in the
worker, one event at a time under a row lock, and must be idempotent: a crash between the handler
and marking the event done delivers it again.

`@subscribe(topic, in_transaction=True)` handlers run at once, inside the transaction that records
the event, for reactions that must commit or fail with the change itself (a refund reversing points
or commission). They receive the event row too and should be quick.
"""

import logging
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from .models import OutboxEvent
from .prepared import insert_new

logger = logging.getLogger("siyu.events")
_handlers: dict[str, list[Callable[[OutboxEvent], None]]] = defaultdict(list)
_sync_handlers: dict[str, list[Callable[[OutboxEvent], None]]] = defaultdict(list)

TOPICS = {
    "order.placed",
    "order.paid",
    "order.shipped",
    "order.completed",
    "order.cancelled",
    "order.refunded",
    "referral.rewarded",  # {"reward", "order", "role", "customer", "shopper"}: a referral reward granted
    "customer.level_changed",  # {"customer", "shopper", "from", "to", "up"}: a member level reached or lost
    "customer.created",
    # One per after-sale status reached (siyu.orders.states), "requested" when one is opened.
    *(
        f"aftersale.{step}"
        for step in (
            "requested",
            "approved",
            "rejected",
            "withdrawn",
            "awaiting_return",
            "returned",
            "refunding",
            "refunded",
            "awaiting_stock",
            "replacement_ready",
            "replacement_sent",
            "exchanged",
        )
    ),
    "commission.settled",  # one per settlement batch: {"commissions": [ids]}
    "campaign.started",  # {"campaign": {...}}: sending began (siyu.campaigns.outreach.events)
    "campaign.finished",  # {"campaign": {..., "messages": counts}}: done, or cancelled after it started
}


def subscribe(topic: str, *, in_transaction: bool = False):
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic}")
    registry = _sync_handlers if in_transaction else _handlers

    def register(func):
        if func not in registry[topic]:
            registry[topic].append(func)
        return func

    return register


def event_record(*, topic: str, shop_id: int | None, payload: dict) -> OutboxEvent:
    (event,) = insert_new([event_new(topic=topic, shop_id=shop_id, payload=payload)])
    return event_recorded(event)


def event_new(*, topic: str, shop_id: int | None, payload: dict) -> OutboxEvent:
    """The event row, not yet saved: for a caller inserting it together with its own rows
    (siyu.core.prepared.insert_new_together), which then calls `event_recorded`."""
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic}")
    return OutboxEvent(topic=topic, shop_id=shop_id, payload=payload)


def event_recorded(event: OutboxEvent) -> OutboxEvent:
    """What follows the event row's INSERT: its in-transaction subscribers now, the worker's after
    the commit."""
    for handler in _sync_handlers.get(event.topic, []):
        handler(event)
    transaction.on_commit(lambda: _enqueue(event.pk))
    return event


def event_order_id(event: OutboxEvent) -> int:
    """The order an `order.*` event is about. Every such event records it; one without is a defect,
    raised (and so kept, with its error, for the sweep) rather than silently handled as no order."""
    order_id = event.payload.get("order")
    if order_id is None:
        raise ValueError(f"event {event.pk} ({event.topic}) names no order")
    return int(order_id)


def _enqueue(event_id: int) -> None:
    from .tasks import outbox_dispatch

    try:
        outbox_dispatch(event_id)
    except Exception:  # noqa: BLE001 - a queue outage must not fail the request; the sweep retries
        logger.exception("could not enqueue event %s; the sweep will pick it up", event_id)


def event_dispatch(*, event_id: int) -> bool:
    """Run the subscribers of one event once. Returns False if it was already done or is busy."""
    with transaction.atomic():
        event = (
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_id, dispatched_at__isnull=True)
            .first()
        )
        if event is None:
            return False
        try:
            with transaction.atomic():
                for handler in _handlers.get(event.topic, []):
                    handler(event)
        except Exception as exc:  # noqa: BLE001 - recorded and retried by the sweep
            OutboxEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1, last_error=repr(exc)[:2000])
            logger.exception("event %s failed", event)
            return False
        OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=timezone.now(), attempts=event.attempts + 1)
    return True


def events_pending(*, limit: int = 500) -> list[int]:
    return list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts__lt=20)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
