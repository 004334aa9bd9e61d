"""WeChat Pay API v3 (wechatpayv3 package), platform-public-key mode.

We check what the library does not: every header present, a fresh timestamp, and the serial
being our configured platform public key id — an unknown serial would otherwise make the library
fetch certificates over the network while we answer a callback.
"""

import json
from decimal import Decimal

import requests

from siyu.core.errors import ProviderError

from .base import (
    NotificationRejected,
    PayAction,
    PaymentProvider,
    RefundResult,
    VerifiedNotification,
    check_timestamp,
    header,
    notification_of,
    provider_call,
    refund_pending_when_unavailable,
)

HEADERS = (
    "Wechatpay-Signature",
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
)
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
# requests' errors mean we never got an answer. The library raises a bare Exception when an answer's
# signature does not verify, so anything else from inside its call is an answer we cannot trust.
UNREACHABLE = (requests.RequestException,)
BAD_ANSWER = (Exception,)


def _answer(action: str, code, message) -> dict:
    """The JSON object WeChat Pay answered; a 5xx or a body that is not JSON is the provider's fault."""
    try:
        data = json.loads(message) if message else {}
    except ValueError:
        data = None
    if not isinstance(data, dict) or (isinstance(code, int) and code >= 500):
        raise ProviderError(detail={"provider": "wechatpay", "action": action, "status": code})
    return data


class WechatPayProvider(PaymentProvider):
    name = "wechatpay"

    def __init__(self, config: dict):
        from wechatpayv3 import WeChatPay, WeChatPayType

        self.config = config
        self.client = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=config["mchid"],
            private_key=config["private_key"],
            cert_serial_no=config["cert_serial_no"],
            appid=config["appid"],
            apiv3_key=config["apiv3_key"],
            notify_url=config.get("notify_url"),
            public_key=config["public_key"],
            public_key_id=config["public_key_id"],
            timeout=(5, 15),
        )

    def start(self, *, payment, description: str, return_url: str) -> PayAction:
        from wechatpayv3 import WeChatPayType

        with provider_call(self.name, "start", unreachable=UNREACHABLE, bad_answer=BAD_ANSWER):
            code, message = self.client.pay(
                description=description[:127],
                out_trade_no=payment.out_trade_no,
                amount={"total": payment.amount, "currency": "CNY"},
                pay_type=WeChatPayType.NATIVE,
            )
        data = _answer("start", code, message)
        if code != 200 or not isinstance(data.get("code_url"), str):
            status = str(data.get("code", code))
            raise ProviderError(detail={"provider": self.name, "action": "start", "status": status})
        return PayAction(kind="qrcode", url=data["code_url"])

    def verify(self, *, headers: dict, body: bytes) -> VerifiedNotification:
        values = {name: header(headers, name) for name in HEADERS}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise NotificationRejected(code="missing_headers", detail={"missing": missing})
        if values["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
            raise NotificationRejected(code="bad_signature_type")
        check_timestamp(values["Wechatpay-Timestamp"])
        if values["Wechatpay-Serial"] != self.config["public_key_id"]:
            raise NotificationRejected(code="unknown_serial", detail={"serial": values["Wechatpay-Serial"][:64]})
        try:
            text = body.decode("utf-8") if isinstance(body, bytes) else body
            json.loads(text)
        except ValueError:  # UnicodeDecodeError is a ValueError too
            raise NotificationRejected(code="malformed_body") from None
        try:
            data = self.client.callback(values, text)
        except Exception:  # noqa: BLE001 - the library raises bare Exception for bad algorithms and keys
            data = None
        if not data or not isinstance(data.get("resource"), dict):
            raise NotificationRejected(code="bad_signature")
        resource = data["resource"]
        if resource.get("mchid") != self.config["mchid"] or resource.get("appid") != self.config["appid"]:
            raise NotificationRejected(code="merchant_mismatch")
        amount = resource.get("amount")
        return notification_of(
            out_trade_no=resource.get("out_trade_no"),
            txn_id=resource.get("transaction_id"),
            prefix="wx_",
            amount=amount.get("total") if isinstance(amount, dict) else None,
            succeeded=resource.get("trade_state") == "SUCCESS",
            raw=resource,
        )

    def query(self, *, payment) -> VerifiedNotification | None:
        """Ask WeChat Pay about a payment whose notification never came (the reconcile task)."""
        with provider_call(self.name, "query", unreachable=UNREACHABLE, bad_answer=BAD_ANSWER):
            code, message = self.client.query(out_trade_no=payment.out_trade_no)
        data = _answer("query", code, message)
        if code != 200 or data.get("trade_state") != "SUCCESS":
            return None
        amount = data.get("amount")
        try:
            return notification_of(
                out_trade_no=data.get("out_trade_no"),
                txn_id=data.get("transaction_id"),
                prefix="wx_",
                amount=amount.get("total") if isinstance(amount, dict) else None,
                succeeded=True,
                raw=data,
            )
        except NotificationRejected as exc:
            raise ProviderError(detail={"provider": self.name, "action": "query", **exc.detail}) from None

    def ack(self, *, ok: bool, message: str = "") -> tuple[int, str, str]:
        body = {"code": "SUCCESS", "message": "成功"} if ok else {"code": "FAIL", "message": message or "失败"}
        return (200 if ok else 400), "application/json", json.dumps(body, ensure_ascii=False)

    def refund(self, *, payment, refund) -> RefundResult:
        return refund_pending_when_unavailable(self.name, lambda: self._refund(payment, refund))

    def _refund(self, payment, refund) -> RefundResult:
        with provider_call(self.name, "refund", unreachable=UNREACHABLE, bad_answer=BAD_ANSWER):
            code, message = self.client.refund(
                out_refund_no=refund.out_refund_no,
                transaction_id=payment.provider_txn_id.removeprefix("wx_"),
                amount={"refund": refund.amount, "total": payment.amount, "currency": "CNY"},
            )
        data = _answer("refund", code, message)
        if code == 200 and data.get("status") in ("SUCCESS", "PROCESSING"):
            return RefundResult(succeeded=True, provider_refund_id=str(data.get("refund_id", "")))
        return RefundResult(succeeded=False, message=str(data.get("message", code))[:200])


def yuan_text(fen: int) -> str:
    return str(Decimal(fen) / 100)
