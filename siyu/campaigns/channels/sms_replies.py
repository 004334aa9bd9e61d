"""Inbound SMS replies: "回复TD退订" works. The SMS providers post the replies their users send to a
URL the seller configures with them; a reply that says TD, T, N or 退订 (any case, spaces and
trailing punctuation ignored, full-width letters too) withdraws that customer's marketing consent.

What can be verified: neither provider signs its reply callback, so the URL carries a shared token
the seller sets in the SMS channel's settings (`inbound_token`, encrypted like other credentials)
and the provider sends back with every call (`?token=` in the URL, or a `Siyu-Token` header).
No token configured: the door is closed (404). A wrong token: 403. A body that is not the
provider's format: 400. A reply from a number the shop does not know, or any other text: accepted
and ignored (the provider would otherwise retry it forever).

Formats (JSON):
  aliyun   HTTP batch push of SmsUp messages: a list of {"phone_number", "content", "send_time",
           "sign_name", "dest_code", "sequence_id"}; answered {"code": 0, "msg": "成功"}
  tencent  one reply: {"mobile", "nationcode", "text", "sign", "time", "extend"};
           answered {"result": 0, "errmsg": "OK"}
Repeating a reply, or the provider retrying one, changes nothing more (customer_unsubscribe is
repeatable and records the consent event once).
"""

import hmac
import json
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from siyu.accounts.services import phone_normalize
from siyu.core.crypto import lookup_hash
from siyu.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from siyu.customers.models import Customer
from siyu.shops.models import Shop

from . import config
from .unsubscribe import customer_unsubscribe

PROVIDERS = ("aliyun", "tencent")
STOP_WORDS = {"TD", "T", "N", "退订"}
MAX_BODY = 256 * 1024
MAX_REPLIES = 1000
_TRAILING = re.compile(r"[\s.。!！,，;；~～]+$")


@dataclass(frozen=True)
class Reply:
    phone: str
    text: str


@dataclass
class RepliesOutcome:
    replies: int = 0
    unsubscribed: int = 0
    ignored: int = 0


def is_stop_reply(text: str) -> bool:
    """TD / T / N / 退订, in any case, with any spaces, full-width letters or trailing punctuation."""
    plain = unicodedata.normalize("NFKC", str(text or ""))
    plain = _TRAILING.sub("", "".join(plain.split())).upper()
    return plain in STOP_WORDS


def inbound_token_check(*, shop: Shop, token: str) -> None:
    """NotFound when the shop takes no replies (no token set), PermissionDenied for a wrong token."""
    expected = config.credentials_of(config.channel_config_get(shop_id=shop.pk, channel="sms")).get("inbound_token")
    if not expected:
        raise NotFound(detail={"sms_replies": "not configured"})
    if not token or not hmac.compare_digest(str(token).encode(), str(expected).encode()):
        raise PermissionDenied(_("The reply callback token is wrong."), code="bad_token", detail={"token": "wrong"})


def _phone(number, nation="86") -> str:
    digits = str(number or "").strip()
    if str(nation or "86").strip().lstrip("+") not in ("86", ""):
        return ""  # only mainland numbers are customers' phones here
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    try:
        return phone_normalize(digits)
    except DomainError:
        return ""


def replies_parse(*, provider: str, body: bytes) -> list[Reply]:
    """The replies in a provider's callback body (InvalidInput when it is not that format)."""
    if provider not in PROVIDERS:
        raise NotFound(detail={"provider": provider[:20]})
    if len(body) > MAX_BODY:
        raise InvalidInput(detail={"body": "too large"})
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(detail={"body": "JSON expected"}) from None
    if provider == "aliyun":
        items = data if isinstance(data, list) else [data]
        keys = ("phone_number", "content")
        if len(items) > MAX_REPLIES or not all(isinstance(i, dict) and all(k in i for k in keys) for i in items):
            raise InvalidInput(detail={"body": "a list of SmsUp messages expected"})
        return [Reply(_phone(i["phone_number"]), str(i["content"])[:500]) for i in items]
    if not isinstance(data, dict) or "mobile" not in data or "text" not in data:
        raise InvalidInput(detail={"body": "a reply with mobile and text expected"})
    return [Reply(_phone(data["mobile"], data.get("nationcode", "86")), str(data["text"])[:500])]


def sms_replies_receive(*, shop: Shop, provider: str, token: str, body: bytes) -> RepliesOutcome:
    """Check the token, read the replies, unsubscribe the customers who said TD (see the module
    docstring). Each unsubscribe is its own short transaction (customer_unsubscribe's)."""
    inbound_token_check(shop=shop, token=token)
    replies = replies_parse(provider=provider, body=body)
    outcome = RepliesOutcome(replies=len(replies))
    stops = {r.phone for r in replies if r.phone and is_stop_reply(r.text)}
    customers = (
        list(Customer.objects.filter(shop=shop, phone_hash__in=[lookup_hash(p) for p in stops]).order_by("pk"))
        if stops
        else []
    )
    for customer in customers:
        customer_unsubscribe(customer=customer, via="sms")
    outcome.unsubscribed = len(customers)
    outcome.ignored = outcome.replies - outcome.unsubscribed
    return outcome


def provider_answer(provider: str, *, ok: bool, message: str = "") -> dict:
    """The body each provider expects back."""
    if provider == "aliyun":
        return {"code": 0, "msg": "成功"} if ok else {"code": 1, "msg": message or "error"}
    return {"result": 0, "errmsg": "OK"} if ok else {"result": 1, "errmsg": message or "error"}
