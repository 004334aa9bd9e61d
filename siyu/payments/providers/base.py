"""What a payment provider must do for us. Implementations never touch the database."""

import time
from dataclasses import dataclass, field

from siyu.core.errors import DomainError


class NotificationRejected(DomainError):
    """A notification we will not act on: bad signature, stale, mismatched or malformed."""

    code = "notification_rejected"
    status = 400


@dataclass(frozen=True)
class VerifiedNotification:
    out_trade_no: str
    provider_txn_id: str
    amount: int  # fen
    succeeded: bool
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PayAction:
    """How the shopper pays: go to a URL, scan a QR code, or nothing (manual transfer)."""

    kind: str  # "redirect" | "qrcode" | "none"
    url: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool | None  # None: accepted, result comes later
    provider_refund_id: str = ""
    message: str = ""


class PaymentProvider:
    name = "base"

    def start(self, *, payment, description: str, return_url: str) -> PayAction:
        raise NotImplementedError

    def verify(self, *, headers: dict, body: bytes) -> VerifiedNotification:
        """Check signature, freshness and our merchant/app ids; raise NotificationRejected otherwise.
        The caller then checks the trade number and amount against its own payment row."""
        raise NotImplementedError

    def ack(self, *, ok: bool, message: str = "") -> tuple[int, str, str]:
        """(status, content type, body) answered to the provider."""
        return (200, "text/plain", "success") if ok else (400, "text/plain", "fail")

    def refund(self, *, payment, refund) -> RefundResult:
        raise NotImplementedError

    def query(self, *, payment) -> VerifiedNotification | None:
        return None


MAX_CLOCK_SKEW = 300  # seconds: notifications older or newer than this are refused


def check_timestamp(raw: str) -> None:
    try:
        stamp = int(str(raw))
    except ValueError:
        raise NotificationRejected(code="bad_timestamp", detail={"timestamp": "not a number"}) from None
    if abs(time.time() - stamp) > MAX_CLOCK_SKEW:
        raise NotificationRejected(code="stale_notification", detail={"timestamp": stamp})


def header(headers: dict, name: str) -> str:
    """A header by its HTTP name, from either a plain dict or Django's META-style keys."""
    meta = "HTTP_" + name.upper().replace("-", "_")
    for key in (name, name.lower(), meta):
        if key in headers:
            return str(headers[key])
    return ""


class ManualProvider(PaymentProvider):
    """Transfers recorded by finance staff. Money goes back the same way: finance transfers it."""

    name = "manual"

    def refund(self, *, payment, refund) -> RefundResult:
        return RefundResult(succeeded=True, provider_refund_id="manual", message="to be transferred back by finance")
