"""Alipay (python-alipay-sdk): RSA2-signed, form-encoded notifications answered with 'success'."""

from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from siyu.core.money import format_yuan

from .base import NotificationRejected, PayAction, PaymentProvider, RefundResult, VerifiedNotification

PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}


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
        try:
            amount = Decimal(data["total_amount"]) * 100
            if not amount.is_finite() or amount != amount.to_integral_value():
                raise InvalidOperation
            return VerifiedNotification(
                out_trade_no=data["out_trade_no"],
                provider_txn_id="ali_" + data["trade_no"],
                amount=int(amount),
                succeeded=data.get("trade_status") in PAID_STATES,
                raw=data,
            )
        except (KeyError, InvalidOperation, ValueError):
            raise NotificationRejected(code="malformed_body") from None

    def query(self, *, payment) -> VerifiedNotification | None:
        """Ask Alipay about a payment whose notification never came (the reconcile task)."""
        result = self.client.api_alipay_trade_query(out_trade_no=payment.out_trade_no)
        if result.get("code") != "10000" or result.get("trade_status") not in PAID_STATES:
            return None
        amount = Decimal(str(result["total_amount"])) * 100
        return VerifiedNotification(
            out_trade_no=payment.out_trade_no,
            provider_txn_id="ali_" + str(result["trade_no"]),
            amount=int(amount),
            succeeded=True,
            raw=result,
        )

    def refund(self, *, payment, refund) -> RefundResult:
        result = self.client.api_alipay_trade_refund(
            refund_amount=format_yuan(refund.amount),
            out_trade_no=payment.out_trade_no,
            out_request_no=refund.out_refund_no,
        )
        if result.get("code") == "10000":
            return RefundResult(succeeded=True, provider_refund_id=str(result.get("trade_no", "")))
        return RefundResult(succeeded=False, message=str(result.get("sub_msg") or result.get("msg"))[:200])
