"""Console wording for the fixed choices of the domains (statuses, roles, return policies)."""

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.accounts.roles import FINANCE, OPERATOR, OWNER, SERVICE
from siyu.catalog.models import ProductStatus, ReturnPolicy
from siyu.core.states import Labels
from siyu.orders.models import AfterSaleStatus, OrderStatus
from siyu.orders.states import AFTERSALE_KIND_LABELS as AFTERSALE_KIND_LABELS
from siyu.orders.states import AFTERSALE_STATUS_LABELS as AFTERSALE_STATUS_LABELS
from siyu.orders.states import ORDER_STATUS_LABELS as ORDER_STATUS_LABELS
from siyu.orders.states import TIMELINE_ACTION_LABELS as TIMELINE_ACTION_LABELS
from siyu.payments.states import PAYMENT_STATUS_LABELS as PAYMENT_STATUS_LABELS
from siyu.payments.states import PROVIDER_LABELS as PROVIDER_LABELS
from siyu.payments.states import REFUND_STATUS_LABELS as REFUND_STATUS_LABELS

STATUS_LABELS: Labels = {
    ProductStatus.DRAFT: _("Draft"),
    ProductStatus.ON_SALE: _("On sale"),
    ProductStatus.OFF_SHELF: _("Off shelf"),
}

ROLE_LABELS: Labels = {
    OWNER: _("Owner"),
    OPERATOR: _("Operator"),
    SERVICE: _("Customer service"),
    FINANCE: _("Finance"),
}

ROLE_HELP = {
    OWNER: _("Everything, including shop settings, staff and money."),
    OPERATOR: _("Products, orders and customers; no shop settings or staff."),
    SERVICE: _("Answers customers and handles orders; cannot change products."),
    FINANCE: _("Payments, refunds and payouts; reads everything else."),
}

POLICY_LABELS: Labels = {
    ReturnPolicy.NO_REASON_7D: _("7-day no-reason returns"),
    ReturnPolicy.QUALITY_ONLY: _("Returns for quality issues only"),
    ReturnPolicy.EXCHANGE_ONLY: _("Exchange only"),
    ReturnPolicy.NO_RETURNS: _("No returns"),
}

POLICY_HELP = {
    ReturnPolicy.NO_REASON_7D: _(
        "The shopper may return the goods for any reason within 7 days, counted from the day after "
        "receipt, if they are intact. This is the statutory default for most goods sold online."
    ),
    ReturnPolicy.QUALITY_ONLY: _(
        "Returns are accepted only when the goods are faulty or not as described. Suits made-to-order "
        "goods, opened food and other items exempt from no-reason returns."
    ),
    ReturnPolicy.EXCHANGE_ONLY: _(
        "The shopper may swap the item for another size or colour, but gets no refund unless the goods are faulty."
    ),
    ReturnPolicy.NO_RETURNS: _(
        "No returns or exchanges, e.g. fresh produce or digital goods. Quality problems still have to be "
        "handled as the law requires."
    ),
}


def policy_choices() -> list[tuple[str, str | Promise]]:
    return [(key, POLICY_LABELS[key]) for key in ReturnPolicy.values]


def status_choices() -> list[tuple[str, str | Promise]]:
    return [(key, STATUS_LABELS[key]) for key in ProductStatus.values]


def role_choices() -> list[tuple[str, str | Promise]]:
    return list(ROLE_LABELS.items())


# --- orders, after-sales and payments ----------------------------------------------------
# Defined once in the domains, next to their status tables, and shared with the shopper's pages.

# (imported above and re-exported: ORDER_STATUS_LABELS, AFTERSALE_*_LABELS, PAYMENT_/REFUND_STATUS_LABELS,
# PROVIDER_LABELS, TIMELINE_ACTION_LABELS)

# The steps of a batch shipment refuse rows with these codes; say why in the merchant's words.
SHIP_REJECT_LABELS = {
    "not_found": _("No order with this number."),
    "bad_transition": _("The order is not waiting to be shipped."),
    "duplicate_shipment": _("This tracking number is already on the order."),
    "nothing_to_ship": _("Nothing is left to ship."),
    "invalid_input": _("Check the carrier and tracking number."),
}


def order_status_choices() -> list[tuple[str, str | Promise]]:
    return [(key, ORDER_STATUS_LABELS[key]) for key in OrderStatus.values]


def aftersale_status_choices() -> list[tuple[str, str | Promise]]:
    return [(key, AFTERSALE_STATUS_LABELS[key]) for key in AfterSaleStatus.values]
