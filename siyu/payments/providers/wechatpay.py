"""WeChat Pay API v3 (wechatpayv3 package), platform-public-key mode.

We check what the library does not: every header present, a fresh timestamp, and the serial
being our configured platform public key id — an unknown serial would otherwise make the library
fetch certificates over the network while we answer a callback.

Payment and refund results arrive at the same notification URL (the library sends our notify_url
with refunds too) and are told apart by the signed `event_type`: TRANSACTION.* or REFUND.*. A
refund answered PROCESSING is not done: its result comes by notification or by our query.
"""

import json
from decimal import Decimal

import requests

from siyu.core.errors import ProviderError

from .base import (
    NotificationRejected,
    PayAction,
    PaymentProvider,
    RefundNotification,
    RefundResult,
    VerifiedNotification,
    check_timestamp,
    header,
    notification_of,
    provider_call,
    refund_notification_of,
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
# A refund's state, as WeChat Pay names it, and what it means for us. ABNORMAL: the money could not
# be paid into the buyer's account (a closed card); the merchant must act, so finance sees it again.
REFUND_FINAL = {"SUCCESS": True, "CLOSED": False, "ABNORMAL": False}
REFUND_WORDS = {
    "CLOSED": "WeChat Pay closed the refund (CLOSED)",
    "ABNORMAL": "WeChat Pay could not pay the refund into the buyer's account (ABNORMAL)",
}


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

    def verify(self, *, headers: dict, body: bytes) -> VerifiedNotification | RefundNotification:
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
        if str(data.get("event_type", "")).startswith("REFUND."):
            return self._refund_note(resource)
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

    def _refund_note(self, resource: dict) -> RefundNotification:
        """A refund result (REFUND.SUCCESS / ABNORMAL / CLOSED). It carries no appid: the merchant
        id is what ties it to this account."""
        if resource.get("mchid") != self.config["mchid"]:
            raise NotificationRejected(code="merchant_mismatch")
        state = resource.get("refund_status")
        if state not in REFUND_FINAL:
            raise NotificationRejected(code="malformed_body", detail={"field": "refund_status"})
        amount = resource.get("amount")
        return refund_notification_of(
            out_refund_no=resource.get("out_refund_no"),
            out_trade_no=resource.get("out_trade_no"),
            refund_id=resource.get("refund_id"),
            amount=amount.get("refund") if isinstance(amount, dict) else None,
            succeeded=REFUND_FINAL[state],
            message=REFUND_WORDS.get(state, ""),
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
        return _refund_result("refund", code, message)

    def refund_query(self, *, payment, refund) -> RefundResult:
        """Ask for the state of a refund WeChat Pay accepted (the reconcile task). One it does not
        know (our submission was lost) is submitted again, under the same out_refund_no."""
        return refund_pending_when_unavailable(self.name, lambda: self._refund_query(payment, refund))

    def _refund_query(self, payment, refund) -> RefundResult:
        with provider_call(self.name, "refund_query", unreachable=UNREACHABLE, bad_answer=BAD_ANSWER):
            code, message = self.client.query_refund(out_refund_no=refund.out_refund_no)
        if code == 404:
            return self._refund(payment, refund)
        return _refund_result("refund_query", code, message)


def _refund_result(action: str, code, message) -> RefundResult:
    """What an answer about a refund means: SUCCESS done, PROCESSING accepted (the result comes
    later), CLOSED / ABNORMAL failed; a refusal (4xx) failed with WeChat Pay's reason; rate limits
    and 5xx leave it pending (raised, and turned into pending by the caller)."""
    data = _answer(action, code, message)
    if code == 429:
        raise ProviderError(detail={"provider": "wechatpay", "action": action, "status": code})
    refund_id = str(data.get("refund_id", ""))[:56]
    if code != 200:
        return RefundResult(succeeded=False, message=str(data.get("message") or data.get("code") or code)[:200])
    state = data.get("status")
    if state in REFUND_FINAL:
        return RefundResult(
            succeeded=REFUND_FINAL[state], provider_refund_id=refund_id, message=REFUND_WORDS.get(state, "")
        )
    if state == "PROCESSING":
        return RefundResult(succeeded=None, provider_refund_id=refund_id, submitted=True)
    raise ProviderError(detail={"provider": "wechatpay", "action": action, "status": str(state)[:20]})


def yuan_text(fen: int) -> str:
    return str(Decimal(fen) / 100)
