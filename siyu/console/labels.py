"""Console wording for the fixed choices of the domains (statuses, roles, return policies)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.accounts.roles import FINANCE, OPERATOR, OWNER, SERVICE
from siyu.catalog.models import ProductStatus, ReturnPolicy
from siyu.orders.models import AfterSaleKind, AfterSaleStatus, OrderStatus
from siyu.payments.models import PaymentStatus, RefundStatus

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


# --- orders, after-sales and payments ----------------------------------------------------

ORDER_STATUS_LABELS = {
    OrderStatus.PENDING_PAYMENT: _("Pending payment"),
    OrderStatus.PAID: _("Paid, to ship"),
    OrderStatus.PARTIALLY_SHIPPED: _("Partially shipped"),
    OrderStatus.SHIPPED: _("Shipped"),
    OrderStatus.COMPLETED: _("Completed"),
    OrderStatus.CANCELLED: _("Cancelled"),
    OrderStatus.CLOSED: _("Closed (refunded)"),
}

AFTERSALE_KIND_LABELS = {
    AfterSaleKind.REFUND_ONLY: _("Refund only"),
    AfterSaleKind.RETURN_REFUND: _("Return and refund"),
    AfterSaleKind.EXCHANGE: pgettext_lazy("after-sale kind", "Exchange"),
}

AFTERSALE_STATUS_LABELS = {
    AfterSaleStatus.REQUESTED: _("Requested"),
    AfterSaleStatus.APPROVED: _("Approved, refund due"),
    AfterSaleStatus.AWAITING_RETURN: _("Awaiting return"),
    AfterSaleStatus.RETURNED: _("Goods returned, refund due"),
    AfterSaleStatus.REFUNDING: _("Refunding"),
    AfterSaleStatus.REFUNDED: _("Refunded"),
    AfterSaleStatus.EXCHANGED: pgettext_lazy("after-sale status", "Exchanged"),
    AfterSaleStatus.REJECTED: _("Rejected"),
    AfterSaleStatus.WITHDRAWN: _("Withdrawn"),
}

PAYMENT_STATUS_LABELS = {
    PaymentStatus.CREATED: _("Waiting for the payer"),
    PaymentStatus.SUCCEEDED: _("Paid"),
    PaymentStatus.FAILED: _("Failed"),
}

REFUND_STATUS_LABELS = {
    RefundStatus.PENDING: _("Pending"),
    RefundStatus.SUCCEEDED: _("Refunded"),
    RefundStatus.FAILED: _("Failed"),
}

PROVIDER_LABELS = {
    "sandbox": _("Sandbox"),
    "wechatpay": _("WeChat Pay"),
    "alipay": _("Alipay"),
    "manual": _("Manual transfer"),
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
    "aftersale.return_shipped": _("Return sent back"),
    "aftersale.received": _("Return received"),
}

# The steps of a batch shipment refuse rows with these codes; say why in the merchant's words.
SHIP_REJECT_LABELS = {
    "not_found": _("No order with this number."),
    "bad_transition": _("The order is not waiting to be shipped."),
    "duplicate_shipment": _("This tracking number is already on the order."),
    "nothing_to_ship": _("Nothing is left to ship."),
    "invalid_input": _("Check the carrier and tracking number."),
}


def order_status_choices() -> list[tuple[str, str]]:
    return [(key, ORDER_STATUS_LABELS[key]) for key in OrderStatus.values]


def aftersale_status_choices() -> list[tuple[str, str]]:
    return [(key, AFTERSALE_STATUS_LABELS[key]) for key in AfterSaleStatus.values]
