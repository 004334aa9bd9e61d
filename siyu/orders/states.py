"""The order and after-sale status tables, and the words for everything an order's timeline shows.

The tables say what may follow what; the labels are defined here once, lazily translated, so the
merchant console and the shopper's pages read the same words (neither shows a raw code).
"""

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.events import event_record
from siyu.core.money import format_yuan
from siyu.core.states import Labels, StateMachine

from .models import AfterSaleKind, AfterSaleStatus, OrderStatus

S, A = OrderStatus, AfterSaleStatus

ORDER_TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
    S.PAID: {S.PARTIALLY_SHIPPED, S.SHIPPED, S.CLOSED},
    S.PARTIALLY_SHIPPED: {S.SHIPPED, S.CLOSED},
    S.SHIPPED: {S.COMPLETED, S.CLOSED},
    S.COMPLETED: {S.CLOSED},
    S.CANCELLED: {S.PAID},  # a payment that arrived after cancellation, with stock still available
    S.CLOSED: set(),
}

ORDER_STATUS_LABELS: Labels = {
    S.PENDING_PAYMENT: _("Pending payment"),
    S.PAID: _("Paid, to ship"),
    S.PARTIALLY_SHIPPED: _("Partially shipped"),
    S.SHIPPED: _("Shipped"),
    S.COMPLETED: _("Completed"),
    S.CANCELLED: _("Cancelled"),
    S.CLOSED: _("Closed (refunded)"),
}

AFTERSALE_KIND_LABELS: Labels = {
    AfterSaleKind.REFUND_ONLY: _("Refund only"),
    AfterSaleKind.RETURN_REFUND: _("Return and refund"),
    AfterSaleKind.EXCHANGE: pgettext_lazy("after-sale kind", "Exchange"),
}

# `approved` (refund only) and `returned` (return and refund) are the two states in which a refund
# waits for someone allowed to approve it (refunds.approve): the finance queue.
AFTERSALE_STATUS_LABELS: Labels = {
    A.REQUESTED: _("Requested"),
    A.APPROVED: _("Approved, refund awaiting finance"),
    A.AWAITING_RETURN: _("Awaiting return"),
    A.RETURNED: _("Goods returned, refund awaiting finance"),
    A.REFUNDING: _("Refunding"),
    A.REFUNDED: _("Refunded"),
    A.AWAITING_STOCK: _("Exchange waiting for stock"),
    A.REPLACEMENT_READY: _("Replacement reserved, to ship"),
    A.REPLACEMENT_SENT: _("Replacement shipped"),
    A.EXCHANGED: pgettext_lazy("after-sale status", "Exchanged"),
    A.REJECTED: _("Rejected"),
    A.WITHDRAWN: _("Withdrawn"),
}


class _AfterSaleStates(StateMachine):
    """Every after-sale status change is also an event (`aftersale.<status>`) for integrations."""

    def move(self, obj, *, to, actor, why="", fields=None, audit=True) -> str:
        before = super().move(obj, to=to, actor=actor, why=why, fields=fields, audit=audit)
        event_record(topic=f"aftersale.{to}", shop_id=obj.shop_id, payload={"after_sale": obj.pk, "from": before})
        return before


AFTERSALE_STATES = _AfterSaleStates(
    name="aftersale",
    table={
        # Withdrawn: the shopper takes the request back before the shop acts on it.
        A.REQUESTED: {A.APPROVED, A.AWAITING_RETURN, A.REJECTED, A.WITHDRAWN},
        A.APPROVED: {A.REFUNDING},  # refund only: finance approves the refund
        # Goods back: a return's refund is due; an exchange's replacement is reserved, or waits for stock.
        A.AWAITING_RETURN: {A.RETURNED, A.REPLACEMENT_READY, A.AWAITING_STOCK},
        A.RETURNED: {A.REFUNDING},  # return and refund: finance approves the refund
        # The provider answered: done, or refused (the refund is due again and can be retried).
        A.REFUNDING: {A.REFUNDED, A.APPROVED, A.RETURNED},
        A.REFUNDED: set(),
        A.AWAITING_STOCK: {A.REPLACEMENT_READY},  # stock came back (the worker) or staff retried
        A.REPLACEMENT_READY: {A.REPLACEMENT_SENT},  # staff shipped it with its own tracking number
        A.REPLACEMENT_SENT: {A.EXCHANGED},  # the shopper confirmed receipt, or the worker did after N days
        A.EXCHANGED: set(),
        A.REJECTED: set(),
        A.WITHDRAWN: set(),
    },
    labels=AFTERSALE_STATUS_LABELS,
)
REFUND_DUE = (A.APPROVED, A.RETURNED)
OPEN = (
    A.REQUESTED,
    A.APPROVED,
    A.AWAITING_RETURN,
    A.RETURNED,
    A.REFUNDING,
    A.AWAITING_STOCK,
    A.REPLACEMENT_READY,
    A.REPLACEMENT_SENT,
)

REASON_LABELS = {
    "no_reason": _("Changed my mind (7-day no-reason)"),
    "quality": _("Quality problem"),
    "wrong_item": _("Wrong item sent"),
    "not_received": _("Not received"),
    "other": _("Other"),
}

TIMELINE_ACTION_LABELS = {
    "place": _("Placed"),
    "pay": _("Paid"),
    "cancel": _("Cancelled"),
    "ship": _("Shipped"),
    "receive": _("Receipt confirmed"),
    "close": _("Closed"),
    "late_payment": _("Late payment"),
    "duplicate_payment": _("Duplicate payment"),
    "refund": _("Refunded"),
    "refund.failed": _("Refund failed"),
    "aftersale.refund_only": _("Asked for a refund"),
    "aftersale.return_refund": _("Asked to return and refund"),
    "aftersale.exchange": _("Asked for an exchange"),
    "aftersale.approve": _("After-sale approved"),
    "aftersale.reject": _("After-sale rejected"),
    "aftersale.refund_approve": _("Refund approved"),
    "aftersale.refund_retry": _("Refund sent again"),
    "aftersale.return_shipped": _("Return sent back"),
    "aftersale.received": _("Return received"),
    "aftersale.withdraw": _("Request withdrawn"),
    "aftersale.awaiting_stock": _("Replacement out of stock: waiting"),
    "aftersale.replacement_reserved": _("Replacement reserved"),
    "aftersale.replacement_shipped": _("Replacement shipped"),
    "aftersale.replacement_received": _("Replacement received"),
}

# Rows written by the system or a payment provider carry a word, not a person.
ACTOR_WORDS = {
    "system": _("System"),
    "payment": _("Payment"),
    "sandbox": _("Payment"),
    "wechatpay": _("Payment"),
    "alipay": _("Payment"),
    "manual": _("Payment"),
    "pickup point": _("Pickup point"),  # a point's keeper wrote off a pickup code
}

# Notes the services write in plain English, as the people reading the timeline should see them.
NOTE_LABELS = {
    "payment timeout": _("Not paid in time"),
    "stock gone: refunding": _("Sold out meanwhile: the payment is refunded"),
    "already paid: refunding": _("Already paid: this payment is refunded"),
    "late payment reinstated": _("Paid late; the order is reinstated"),
    "fully refunded": _("Fully refunded"),
    "auto-confirmed": _("Receipt confirmed automatically"),
    "cancelled by the shopper": _("cancelled by the shopper"),
    "picked up at the pickup point": _("Picked up at the pickup point"),
}

_REASON = re.compile(r"^\[(\w+)\]\s*(.*)$", re.S)
_LEGACY_AMOUNT = re.compile(r"^(\d+) fen\s*(.*)$", re.S)  # refund rows written before `data` existed


def order_status_label(status: str) -> str:
    return str(ORDER_STATUS_LABELS.get(status, status)) if status else ""


def reason_text(reason: str) -> str:
    """An after-sale reason as stored ("[quality] torn box") in words: "Quality problem: torn box"."""
    match = _REASON.match(reason or "")
    if not match or match.group(1) not in REASON_LABELS:
        return reason or ""
    label, rest = str(REASON_LABELS[match.group(1)]), match.group(2).strip()
    return f"{label}: {rest}" if rest else label


def timeline_action_label(action: str) -> str:
    return str(TIMELINE_ACTION_LABELS.get(action, action))


def timeline_note_text(row) -> str:
    """A timeline row's note in words (reason codes, system notes and amounts worded)."""
    return _note_text(row)


def _note_text(row) -> str:
    data = row.data or {}
    note = row.note or ""
    amount = data.get("amount")
    legacy = _LEGACY_AMOUNT.match(note) if amount is None else None
    if legacy:
        amount, note = int(legacy.group(1)), legacy.group(2)
    if "quantity" in data and row.action == "aftersale.received":
        note = str(_("%(n)s back in stock") % {"n": data["quantity"]})
    elif row.action.startswith("aftersale.") and row.action[10:] in AfterSaleKind.values:
        note = reason_text(note)
    else:
        note = str(NOTE_LABELS.get(note, note))
    parts = [f"¥{format_yuan(amount)}" if amount is not None else "", note]
    return " · ".join(p for p in parts if p)


def _who(row, *, for_shopper: bool) -> str:
    if row.actor_id is not None:  # a staff member
        return str(_("Shop")) if for_shopper else row.actor_label
    if row.actor_label in ACTOR_WORDS:
        return str(ACTOR_WORDS[row.actor_label])
    return str(_("You")) if for_shopper else row.actor_label  # the shopper (a masked phone)


def timeline_entries(*, order, for_shopper: bool = False) -> list[dict]:
    """An order's timeline in words, oldest first. Shoppers see "Shop" rather than staff names."""
    return [
        {
            "row": t,
            "at": t.at,
            "who": _who(t, for_shopper=for_shopper),
            "action": timeline_action_label(t.action),
            "from": order_status_label(t.from_status),
            "to": order_status_label(t.to_status),
            "note": _note_text(t),
        }
        for t in order.timeline.all()
    ]
