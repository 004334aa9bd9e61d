"""A local stand-in for a real provider: a payment page, and a signed notification sent back by
the worker, so the whole asynchronous flow runs on one machine."""

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.urls import reverse

from .base import (
    NotificationRejected,
    PayAction,
    PaymentProvider,
    RefundResult,
    VerifiedNotification,
    check_timestamp,
    header,
)

SIGNATURE_HEADER = "X-Sandbox-Signature"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"


def _key() -> bytes:
    return hashlib.sha256(("siyu-sandbox:" + settings.SECRET_KEY).encode()).digest()


def sandbox_sign(body: bytes, timestamp: int) -> str:
    return hmac.new(_key(), str(timestamp).encode() + b"\n" + body, hashlib.sha256).hexdigest()


def sandbox_notification(
    *, out_trade_no: str, amount: int, txn_id: str, succeeded: bool = True, timestamp: int | None = None
) -> tuple[dict, bytes]:
    """What the sandbox 'bank' sends: (headers, body)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    body = json.dumps(
        {
            "out_trade_no": out_trade_no,
            "transaction_id": txn_id,
            "amount": amount,
            "status": "SUCCESS" if succeeded else "FAILED",
        },
        separators=(",", ":"),
    ).encode()
    return {SIGNATURE_HEADER: sandbox_sign(body, timestamp), TIMESTAMP_HEADER: str(timestamp)}, body


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def start(self, *, payment, description: str, return_url: str) -> PayAction:
        return PayAction(kind="redirect", url=reverse("storefront:sandbox_pay", args=[payment.out_trade_no]))

    def verify(self, *, headers: dict, body: bytes) -> VerifiedNotification:
        signature, timestamp = header(headers, SIGNATURE_HEADER), header(headers, TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise NotificationRejected(code="missing_headers")
        check_timestamp(timestamp)
        if not hmac.compare_digest(signature.encode("utf-8", "replace"), sandbox_sign(body, int(timestamp)).encode()):
            raise NotificationRejected(code="bad_signature")
        try:
            data = json.loads(body)
            return VerifiedNotification(
                out_trade_no=str(data["out_trade_no"]),
                provider_txn_id="sb_" + str(data["transaction_id"]),
                amount=int(data["amount"]),
                succeeded=data["status"] == "SUCCESS",
                raw=data,
            )
        except (ValueError, KeyError, TypeError):
            raise NotificationRejected(code="malformed_body") from None

    def refund(self, *, payment, refund) -> RefundResult:
        return RefundResult(succeeded=True, provider_refund_id="sbr_" + refund.out_refund_no)
