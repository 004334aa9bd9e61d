"""Console wording for the fixed choices of the domains (statuses, roles, return policies)."""

from django.utils.translation import gettext_lazy as _

from siyu.accounts.roles import FINANCE, OPERATOR, OWNER, SERVICE
from siyu.catalog.models import ProductStatus, ReturnPolicy

STATUS_LABELS = {
    ProductStatus.DRAFT: _("Draft"),
    ProductStatus.ON_SALE: _("On sale"),
    ProductStatus.OFF_SHELF: _("Off shelf"),
}

ROLE_LABELS = {
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

POLICY_LABELS = {
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


def policy_choices() -> list[tuple[str, str]]:
    return [(key, POLICY_LABELS[key]) for key in ReturnPolicy.values]


def status_choices() -> list[tuple[str, str]]:
    return [(key, STATUS_LABELS[key]) for key in ProductStatus.values]


def role_choices() -> list[tuple[str, str]]:
    return list(ROLE_LABELS.items())
