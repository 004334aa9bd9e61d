"""Who may see shoppers' full names, phone numbers and street addresses on orders (to ship them),
and the record of every time someone does: the order page, the pick list, the packing slip and the
exports (console, API) all ask here, so the rule and its log live in one place."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from siyu.core.audit import audit_record
from siyu.core.crypto import mask_phone
from siyu.shops.models import Shop

from .models import Order

# Whoever ships the goods needs the address on the parcel; everyone else (finance, read-only staff)
# sees the recipient, phone and street masked, as in every list.
FULL_CONTACTS_PERMISSION = "orders.manage"
MASK = "****"
# Where full contacts were shown, as the personal-data access log records it.
VIEWS = ("order_page", "pick_list", "packing_slip")
MAX_LOGGED_NUMBERS = 200


@dataclass(frozen=True)
class OrderContacts:
    """What a person sees of an order's recipient: all of it, or masked."""

    recipient: str
    phone: str
    region: str  # province city district: never masked, it prices the postage
    street: str
    full: bool


def order_contacts_allowed(*, actor: Any, shop: Shop) -> bool:
    """The rule alone, without a log row: staff of this shop with the fulfilment permission."""
    return actor is not None and getattr(actor, "shop_id", None) == shop.pk and actor.can(FULL_CONTACTS_PERMISSION)


def masked_recipient(name: str) -> str:
    """The family name and a star per remaining character: 王五 → 王*."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def order_contacts(order: Order, *, full: bool) -> OrderContacts:
    region = " ".join(filter(None, (order.province, order.city, order.district)))
    if full:
        return OrderContacts(order.recipient, order.phone or "", region, order.address_detail or "", True)
    return OrderContacts(masked_recipient(order.recipient), mask_phone(order.phone or ""), region, MASK, False)


def order_contacts_reveal(*, actor: Any, shop: Shop, orders: Sequence[Order], view: str) -> dict[int, OrderContacts]:
    """Each order's contacts as `actor` may see them (order id → contacts). When they are shown in
    full, one audit row records who saw which orders' contacts, and where (`view`: VIEWS)."""
    full = order_contacts_allowed(actor=actor, shop=shop)
    if full and orders:
        numbers = [o.number for o in orders]
        audit_record(
            shop_id=shop.pk,
            actor=actor,
            action="orders.view_contacts",
            target=orders[0] if len(orders) == 1 else shop,
            data={
                "view": view if view in VIEWS else "other",
                "orders": len(numbers),
                "numbers": numbers[:MAX_LOGGED_NUMBERS],
                "fields": ["recipient", "phone", "address"],
            },
        )
    return {o.pk: order_contacts(o, full=full) for o in orders}


def order_export_reveals_contacts(*, actor: Any, shop: Shop, rows: int, filters: dict) -> bool:
    """Whether this export may carry full contact details. When it does, one audit row records who
    took how many orders' contacts and with which filters (the personal-data access log)."""
    if not order_contacts_allowed(actor=actor, shop=shop):
        return False
    audit_record(
        shop_id=shop.pk,
        actor=actor,
        action="orders.export_contacts",
        target=shop,
        data={"rows": rows, "fields": ["phone", "address"], "filters": filters},
    )
    return True
