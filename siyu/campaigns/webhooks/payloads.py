"""What each webhook event's `data` holds: a documented, stable, minimal JSON per type.

Money is integer fen, times are ISO 8601 with offset, ids are the ones the console API uses (public
ids for orders, after-sales and customers; numbers for order lines, SKUs, promoters, commissions).
Personal data leaves only masked: a phone as 138****8000, an address as province and city.

A builder turns one outbox event into the `data` of zero or more webhook events (a settlement run
that settles many commissions at once becomes one `commission.settled` each). Later domains add
their own types with `register_webhook_topic` (the topic must be one of siyu.core.events.TOPICS).
"""

from collections.abc import Callable
from datetime import datetime

from siyu.core.crypto import mask_phone
from siyu.core.models import OutboxEvent
from siyu.customers.models import Customer
from siyu.distribution.models import Commission
from siyu.orders.models import AfterSale, Order

# (part, data): `part` tells apart the webhook events one outbox event becomes, stably (0 for one).
Builder = Callable[[OutboxEvent], list[tuple[int, dict]]]
_BUILDERS: dict[str, Builder] = {}

ORDER_TOPICS = ["order.placed", "order.paid", "order.shipped", "order.completed", "order.cancelled", "order.refunded"]
CAMPAIGN_TOPICS = ["campaign.started", "campaign.finished"]
AFTERSALE_STEPS = [
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
]


def register_webhook_topic(topic: str, builder: Builder) -> None:
    _BUILDERS[topic] = builder


def webhook_topics() -> list[str]:
    return list(_BUILDERS)


def webhook_data(event: OutboxEvent) -> list[tuple[int, dict]]:
    builder = _BUILDERS.get(event.topic)
    return builder(event) if builder is not None else []


def _shop_id(event: OutboxEvent) -> int:
    return event.shop_id or 0  # events without a shop never reach a builder (webhooks_fan_out skips them)


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def order_data(order: Order) -> dict:
    return {
        "id": order.public_id,
        "number": order.number,
        "status": order.status,
        "currency": "CNY",
        "subtotal": order.subtotal,
        "shipping_fee": order.shipping_fee,
        "discount": order.discount,
        "total": order.total,
        "paid_amount": order.paid_amount,
        "refunded_amount": order.refunded_amount,
        "phone": order.masked_phone,
        "province": order.province,
        "city": order.city,
        "created_at": _at(order.created_at),
        "paid_at": _at(order.paid_at),
        "lines": [
            {
                "id": line.pk,
                "sku": line.sku_id,
                "name": line.product_name,
                "spec": line.sku_label,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
                "shipped_quantity": line.shipped_quantity,
                "refunded_quantity": line.refunded_quantity,
            }
            for line in order.lines.all()
        ],
    }


def _order_event(event: OutboxEvent) -> list[tuple[int, dict]]:
    order = (
        Order.objects.filter(pk=event.payload.get("order"), shop_id=_shop_id(event)).prefetch_related("lines").first()
    )
    if order is None:
        return []
    data: dict = {"order": order_data(order)}
    payload = event.payload
    if event.topic == "order.paid":
        data["amount"] = payload.get("amount")
    elif event.topic == "order.shipped":
        data["shipment"] = {"lines": payload.get("lines", []), "complete": bool(payload.get("complete"))}
    elif event.topic == "order.refunded":
        sale = AfterSale.objects.filter(pk=payload.get("after_sale")).values_list("public_id", flat=True).first()
        data["refund"] = {"amount": payload.get("amount"), "after_sale": sale, "quantity": payload.get("quantity")}
    return [(0, data)]


def _customer_event(event: OutboxEvent) -> list[tuple[int, dict]]:
    customer = Customer.objects.filter(pk=event.payload.get("customer"), shop_id=_shop_id(event)).first()
    if customer is None:
        return []
    data = {
        "id": customer.public_id,
        "phone": mask_phone(customer.phone or ""),
        "source": customer.source,
        "marketing_consent": customer.marketing_consent_at is not None,
        "created_at": _at(customer.created_at),
    }
    return [(0, {"customer": data})]


def _reason_code(reason: str) -> str:
    # Stored as "[code] the shopper's words": only the code leaves (the words may hold anything).
    return reason[1:].split("]", 1)[0] if reason.startswith("[") and "]" in reason else ""


def _aftersale_event(event: OutboxEvent) -> list[tuple[int, dict]]:
    sale = (
        AfterSale.objects.select_related("order")
        .filter(pk=event.payload.get("after_sale"), shop_id=_shop_id(event))
        .first()
    )
    if sale is None:
        return []
    data = {
        "id": sale.public_id,
        "order": sale.order.public_id,
        "line": sale.line_id,
        "kind": sale.kind,
        "status": event.topic.split(".", 1)[1],
        "previous_status": event.payload.get("from") or None,
        "quantity": sale.quantity,
        "amount": sale.amount,
        "shipping_amount": sale.shipping_amount,
        "reason": _reason_code(sale.reason),
        "created_at": _at(sale.created_at),
    }
    return [(0, {"after_sale": data})]


def _commissions_event(event: OutboxEvent) -> list[tuple[int, dict]]:
    ids = [int(pk) for pk in event.payload.get("commissions", [])]
    rows = Commission.objects.filter(pk__in=ids, shop_id=_shop_id(event)).select_related("order").order_by("pk")
    return [(c.pk, {"commission": _commission(c)}) for c in rows]


def _commission(c: Commission) -> dict:
    return {
        "id": c.pk,
        "promoter": c.promoter_id,
        "order": c.order.public_id,
        "line": c.line_id,
        "tier": c.tier,
        "base_amount": c.base_amount,
        "rate_bp": c.rate_bp,
        "amount": c.amount,
        "settled_at": _at(c.settled_at),
    }


for _topic in ORDER_TOPICS:
    register_webhook_topic(_topic, _order_event)
register_webhook_topic("customer.created", _customer_event)
for _step in AFTERSALE_STEPS:
    register_webhook_topic(f"aftersale.{_step}", _aftersale_event)
register_webhook_topic("commission.settled", _commissions_event)


def _campaign_event(event: OutboxEvent) -> list[tuple[int, dict]]:
    # The outreach domain writes the campaign's data into the event as it stood when it moved
    # (siyu.campaigns.outreach.events): the counts at the finish, not as they are read later.
    data = event.payload.get("campaign")
    return [(0, {"campaign": data})] if isinstance(data, dict) else []


for _topic in CAMPAIGN_TOPICS:
    register_webhook_topic(_topic, _campaign_event)
