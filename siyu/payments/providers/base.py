"""What a payment provider must do for us. Implementations never touch the database."""

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from siyu.core.errors import DomainError, ProviderError, ProviderUnavailable

logger = logging.getLogger("siyu.payments.providers")

# What fits our columns: out_trade_no is ours (32 characters at most); a provider's transaction id
# is stored with a short prefix in a 64-character column. Providers use letters, digits, _ and -;
# anything else (or longer) is a malformed notification, refused before it reaches the database.
_TRADE_NO = re.compile(r"[0-9A-Za-z_-]{1,32}")
_TXN_ID = re.compile(r"[0-9A-Za-z_-]{1,56}")
MAX_AMOUNT_FEN = 10_000_000_000


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


def notification_of(*, out_trade_no, txn_id, prefix: str, amount, succeeded: bool, raw: dict) -> VerifiedNotification:
    """A verified notification from already-decoded fields, refusing any field that does not have
    the type and size our columns hold: an integer amount in fen (not a float, not a boolean),
    ids of the provider's alphabet and length."""
    if not isinstance(out_trade_no, str) or not _TRADE_NO.fullmatch(out_trade_no):
        raise NotificationRejected(code="malformed_body", detail={"field": "out_trade_no"})
    if not isinstance(txn_id, str) or not _TXN_ID.fullmatch(txn_id):
        raise NotificationRejected(code="malformed_body", detail={"field": "transaction_id"})
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT_FEN:
        raise NotificationRejected(code="malformed_body", detail={"field": "amount"})
    return VerifiedNotification(
        out_trade_no=out_trade_no, provider_txn_id=prefix + txn_id, amount=amount, succeeded=succeeded, raw=raw
    )


@dataclass(frozen=True)
class RefundNotification:
    """A verified refund result pushed by the provider (WeChat Pay's REFUND.* events)."""

    out_refund_no: str
    out_trade_no: str
    provider_refund_id: str
    amount: int  # fen refunded
    succeeded: bool | None  # None: still processing
    message: str = ""
    raw: dict = field(default_factory=dict)


def refund_notification_of(
    *, out_refund_no, out_trade_no, refund_id, amount, succeeded: bool | None, message: str, raw: dict
) -> RefundNotification:
    """A verified refund result from decoded fields, refusing any field of the wrong type or size."""
    for name, value in (("out_refund_no", out_refund_no), ("out_trade_no", out_trade_no)):
        if not isinstance(value, str) or not _TRADE_NO.fullmatch(value):
            raise NotificationRejected(code="malformed_body", detail={"field": name})
    if not isinstance(refund_id, str) or not _TXN_ID.fullmatch(refund_id):
        raise NotificationRejected(code="malformed_body", detail={"field": "refund_id"})
    if type(amount) is not int or not 0 < amount <= MAX_AMOUNT_FEN:
        raise NotificationRejected(code="malformed_body", detail={"field": "amount"})
    return RefundNotification(
        out_refund_no=out_refund_no,
        out_trade_no=out_trade_no,
        provider_refund_id=refund_id,
        amount=amount,
        succeeded=succeeded,
        message=message[:200],
        raw=raw,
    )


@contextmanager
def provider_call(
    provider: str, action: str, *, unreachable: tuple[type[BaseException], ...], bad_answer=()
) -> Iterator[None]:
    """Turn a provider library's failures into our errors: `unreachable` (connection refused,
    timeouts, DNS) into ProviderUnavailable (503), `bad_answer` (an answer we cannot read or
    trust) into ProviderError (502). Both are logged, since nobody else will see them."""
    try:
        yield
    except unreachable as exc:
        logger.warning("%s %s: provider unreachable: %r", provider, action, exc)
        raise ProviderUnavailable(detail={"provider": provider, "action": action}) from exc
    except bad_answer as exc:
        logger.warning("%s %s: unreadable answer: %r", provider, action, exc)
        raise ProviderError(detail={"provider": provider, "action": action}) from exc


def refund_pending_when_unavailable(provider: str, call) -> "RefundResult":
    """Run a refund call; if the provider cannot be reached, the refund stays pending (the
    reconcile task retries it with the same out_refund_no, which the provider deduplicates)
    instead of failing a worker or a request."""
    try:
        return call()
    except ProviderUnavailable as exc:  # ProviderError included
        logger.warning("%s refund left pending: %s", provider, exc.code)
        return RefundResult(succeeded=None, message=exc.code)


@dataclass(frozen=True)
class PayAction:
    """How the shopper pays: go to a URL, scan a QR code, or nothing (manual transfer)."""

    kind: str  # "redirect" | "qrcode" | "none"
    url: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool | None  # None: no final answer yet (processing, or not reached)
    provider_refund_id: str = ""
    message: str = ""
    # The provider took the refund and will answer later (WeChat Pay PROCESSING): from then on we
    # ask for its result rather than submitting it again.
    submitted: bool = False


class PaymentProvider:
    name = "base"

    def start(self, *, payment, description: str, return_url: str) -> PayAction:
        raise NotImplementedError

    def verify(self, *, headers: dict, body: bytes) -> "VerifiedNotification | RefundNotification":
        """Check signature, freshness and our merchant/app ids; raise NotificationRejected otherwise.
        The caller then checks the trade (or refund) number and amount against its own rows."""
        raise NotImplementedError

    def ack(self, *, ok: bool, message: str = "") -> tuple[int, str, str]:
        """(status, content type, body) answered to the provider."""
        return (200, "text/plain", "success") if ok else (400, "text/plain", "fail")

    def refund(self, *, payment, refund) -> RefundResult:
        """Submit a refund. Repeatable: providers deduplicate by our out_refund_no."""
        raise NotImplementedError

    def refund_query(self, *, payment, refund) -> RefundResult:
        """The result of a refund the provider accepted earlier. By default: submit it again, which
        the provider deduplicates by out_refund_no and answers with the refund's state."""
        return self.refund(payment=payment, refund=refund)

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
