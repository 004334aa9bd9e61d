"""Alipay (python-alipay-sdk): RSA2-signed, form-encoded notifications answered with 'success'.

Refunds are synchronous: `fund_change`=Y means the money moved. Otherwise (a repeated request, or
one not final yet) alipay.trade.fastpay.refund.query decides, and the refund stays pending until it
shows REFUND_SUCCESS or a new submission is refused.
"""

import re
from decimal import Decimal
from http.client import HTTPException
from urllib.parse import parse_qsl

from siyu.core.errors import ProviderError
from siyu.core.money import format_yuan

from .base import (
    NotificationRejected,
    PayAction,
    PaymentProvider,
    RefundResult,
    VerifiedNotification,
    notification_of,
    provider_call,
    refund_pending_when_unavailable,
)

PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
# Business answers that mean "busy, ask again" rather than "refused".
RETRY_LATER = {"ACQ.SYSTEM_ERROR"}
# Alipay sends amounts as yuan text with at most two decimals ("57.90"); anything else is refused
# rather than rounded, so a notification can never pay a different amount than it says.
YUAN = re.compile(r"(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?")


def _unreachable():
    # The SDK calls urllib: URLError and timeouts are OSErrors, a cut connection an HTTPException.
    return (OSError, HTTPException)


def _bad_answer():
    from alipay.exceptions import AliPayException, AliPayValidationError

    # An answer that is not JSON, lacks the expected key or fails its signature check.
    return (AliPayException, AliPayValidationError, ValueError, KeyError, TypeError)


def fen_of_yuan(text) -> int | None:
    """'57.90' → 5790; None for anything that is not a non-negative yuan amount with two decimals."""
    if not isinstance(text, str) or not YUAN.fullmatch(text):
        return None
    return int(Decimal(text) * 100)


class AlipayProvider(PaymentProvider):
    name = "alipay"

    def __init__(self, config: dict):
        from alipay import AliPay

        self.config = config
        self.client = AliPay(
            appid=config["app_id"],
            app_notify_url=config.get("notify_url"),
            app_private_key_string=config["private_key"],
            alipay_public_key_string=config["alipay_public_key"],
            sign_type="RSA2",
            debug=bool(config.get("sandbox")),
        )

    def start(self, *, payment, description: str, return_url: str) -> PayAction:
        query = self.client.api_alipay_trade_wap_pay(
            out_trade_no=payment.out_trade_no,
            total_amount=format_yuan(payment.amount),
            subject=description[:128],
            return_url=return_url,
            notify_url=self.config.get("notify_url"),
        )
        return PayAction(kind="redirect", url=f"{self.client._gateway}?{query}")

    def verify(self, *, headers: dict, body: bytes) -> VerifiedNotification:
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            data = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise NotificationRejected(code="malformed_body") from None
        signature = data.pop("sign", "")
        if not signature:
            raise NotificationRejected(code="missing_signature")
        if data.get("sign_type", "RSA2") != "RSA2":
            raise NotificationRejected(code="bad_signature_type")
        try:
            valid = self.client.verify(dict(data), signature)
        except (ValueError, TypeError):
            valid = False
        if not valid:
            raise NotificationRejected(code="bad_signature")
        if data.get("app_id") != self.config["app_id"]:
            raise NotificationRejected(code="merchant_mismatch", detail={"field": "app_id"})
        if self.config.get("seller_id") and data.get("seller_id") != self.config["seller_id"]:
            raise NotificationRejected(code="merchant_mismatch", detail={"field": "seller_id"})
        return notification_of(
            out_trade_no=data.get("out_trade_no"),
            txn_id=data.get("trade_no"),
            prefix="ali_",
            amount=fen_of_yuan(data.get("total_amount")),
            succeeded=data.get("trade_status") in PAID_STATES,
            raw=data,
        )

    def query(self, *, payment) -> VerifiedNotification | None:
        """Ask Alipay about a payment whose notification never came (the reconcile task)."""
        with provider_call(self.name, "query", unreachable=_unreachable(), bad_answer=_bad_answer()):
            result = self.client.api_alipay_trade_query(out_trade_no=payment.out_trade_no)
        if not isinstance(result, dict):
            raise ProviderError(detail={"provider": self.name, "action": "query"})
        if result.get("code") != "10000" or result.get("trade_status") not in PAID_STATES:
            return None
        try:
            return notification_of(
                out_trade_no=payment.out_trade_no,
                txn_id=result.get("trade_no"),
                prefix="ali_",
                amount=fen_of_yuan(result.get("total_amount")),
                succeeded=True,
                raw=result,
            )
        except NotificationRejected as exc:
            raise ProviderError(detail={"provider": self.name, "action": "query", **exc.detail}) from None

    def refund(self, *, payment, refund) -> RefundResult:
        return refund_pending_when_unavailable(self.name, lambda: self._refund(payment, refund))

    def _refund(self, payment, refund) -> RefundResult:
        with provider_call(self.name, "refund", unreachable=_unreachable(), bad_answer=_bad_answer()):
            result = self.client.api_alipay_trade_refund(
                refund_amount=format_yuan(refund.amount),
                out_trade_no=payment.out_trade_no,
                out_request_no=refund.out_refund_no,
            )
        if not isinstance(result, dict):
            raise ProviderError(detail={"provider": self.name, "action": "refund"})
        if result.get("code") == "20000" or result.get("sub_code") in RETRY_LATER:
            raise ProviderError(detail={"provider": self.name, "action": "refund", "status": "20000"})
        if result.get("code") == "10000":
            if result.get("fund_change") == "Y":
                return RefundResult(succeeded=True, provider_refund_id=_trade_no_of(result))
            # "N": this call moved no money. Either it repeats a refund done earlier (same
            # out_request_no) or the refund is not final yet: only the refund query can tell.
            return self._refund_state(payment, refund)
        return RefundResult(succeeded=False, message=str(result.get("sub_msg") or result.get("msg"))[:200])

    def refund_query(self, *, payment, refund) -> RefundResult:
        """The state of a refund with no final answer yet: asked first, submitted again (the same
        out_request_no, which Alipay deduplicates) when the query does not show it refunded."""

        def ask() -> RefundResult:
            result = self._refund_state(payment, refund)
            return result if result.succeeded is not None else self._refund(payment, refund)

        return refund_pending_when_unavailable(self.name, ask)

    def _refund_state(self, payment, refund) -> RefundResult:
        """alipay.trade.fastpay.refund.query: REFUND_SUCCESS is done; no status means Alipay has no
        finished refund under this number (yet), so it stays pending."""
        with provider_call(self.name, "refund_query", unreachable=_unreachable(), bad_answer=_bad_answer()):
            result = self.client.api_alipay_trade_fastpay_refund_query(
                out_request_no=refund.out_refund_no, out_trade_no=payment.out_trade_no
            )
        if not isinstance(result, dict) or result.get("code") == "20000":
            raise ProviderError(detail={"provider": self.name, "action": "refund_query"})
        if result.get("code") == "10000" and result.get("refund_status") == "REFUND_SUCCESS":
            return RefundResult(succeeded=True, provider_refund_id=_trade_no_of(result))
        return RefundResult(succeeded=None, submitted=True, message="refund not final at Alipay")


def _trade_no_of(result: dict) -> str:
    return str(result.get("trade_no", ""))[:56]
