"""Payment and refund status tables, with their words (shared by the console and the API docs)."""

from django.utils.translation import gettext_lazy as _

from siyu.core.states import Labels, StateMachine

from .models import PaymentStatus, RefundStatus

P, R = PaymentStatus, RefundStatus

PAYMENT_STATUS_LABELS: Labels = {
    P.CREATED: _("Waiting for the payer"),
    P.SUCCEEDED: _("Paid"),
    P.FAILED: _("Failed"),
}

PAYMENT_STATES = StateMachine(
    name="payment",
    table={
        P.CREATED: {P.SUCCEEDED, P.FAILED},
        # A provider may report a failed attempt and later a success for the same trade number
        # (the payer tried again on the same cashier page): the money did arrive.
        P.FAILED: {P.SUCCEEDED},
        P.SUCCEEDED: set(),
    },
    labels=PAYMENT_STATUS_LABELS,
)

REFUND_STATUS_LABELS: Labels = {
    R.PENDING: _("Pending"),
    R.SUCCEEDED: _("Refunded"),
    R.FAILED: _("Failed"),
}

REFUND_STATES = StateMachine(
    name="refund",
    table={R.PENDING: {R.SUCCEEDED, R.FAILED}, R.SUCCEEDED: set(), R.FAILED: set()},
    labels=REFUND_STATUS_LABELS,
)

PROVIDER_LABELS: Labels = {
    "sandbox": _("Sandbox"),
    "wechatpay": _("WeChat Pay"),
    "alipay": _("Alipay"),
    "manual": _("Manual transfer"),
}
