"""Who may take shoppers' full phone numbers and addresses out of the system in an order export,
and the record of every time someone does. Every door that exports orders (console, API) asks here."""

from typing import Any

from siyu.core.audit import audit_record
from siyu.shops.models import Shop

# Whoever ships the goods needs the address on the parcel; everyone else (finance, read-only staff)
# gets the export with the phone masked and no street address, as in every list.
FULL_CONTACTS_PERMISSION = "orders.manage"


def order_export_reveals_contacts(*, actor: Any, shop: Shop, rows: int, filters: dict) -> bool:
    """Whether this export may carry full contact details. When it does, one audit row records who
    took how many orders' contacts and with which filters (the personal-data access log)."""
    if actor is None or getattr(actor, "shop_id", None) != shop.pk or not actor.can(FULL_CONTACTS_PERMISSION):
        return False
    audit_record(
        shop_id=shop.pk,
        actor=actor,
        action="orders.export_contacts",
        target=shop,
        data={"rows": rows, "fields": ["phone", "address"], "filters": filters},
    )
    return True
