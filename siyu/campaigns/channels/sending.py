"""Sending one marketing message to one customer: consent, manners, idempotency, the provider call.

Claim, call, settle (as `withdrawal_pay` does):
1. In one short transaction, under the customer's row lock (rank REACTION: the only lock taken),
   the rules are checked (channel on, consent, quiet hours, address, frequency cap) and the
   message's key row is claimed: inserted as "sending", or moved back to "sending" when an earlier
   attempt failed or was refused. The lock makes the cap exact when two campaigns reach one
   customer at once, and the unique (shop, key) row makes a key's send happen once.
2. The provider is called outside any transaction (never inside the caller's one either).
3. The row is settled by a conditional UPDATE from "sending".
A key already "sent" answers its first result and sends nothing; one "sending" answers
failed/"in_progress" (another worker has it). A row left "sending" longer than STALE (its worker
died during the provider call) may or may not have reached the customer: it is settled failed
"outcome_unknown" and never sent again: a marketing message is sent at most once.
"""

from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext

from siyu.core import locks
from siyu.core.errors import InvalidInput
from siyu.core.ids import public_id
from siyu.customers.models import Customer, SocialLink
from siyu.shops.models import Shop

from . import config, manners
from .backends import ChannelError, Recipient
from .backends.simple import email_deliver, log_send, sms_deliver
from .backends.wechat import wechat_oa_deliver, wecom_deliver
from .messages import CHANNELS, Message, SendResult
from .models import ChannelAddress, ChannelSettings, MessageLog, MessageStatus, Unsubscribe
from .unsubscribe import SMS_SUFFIX, unsubscribe_url

S = MessageStatus
STALE = timedelta(minutes=15)
FINAL_REASONS = {"outcome_unknown"}
MAX_TEXT = 2000
BACKENDS = {
    "log": log_send,
    "sms": sms_deliver,
    "email": email_deliver,
    "wecom": wecom_deliver,
    "wechat_oa": wechat_oa_deliver,
}


def _recipient(customer: Customer, channel: str) -> Recipient | None:
    """Where the customer is reached on `channel`, or None ("no_address")."""
    if channel == "log":
        return Recipient(address=customer.public_id)
    if channel == "sms":
        return Recipient(address=customer.phone) if customer.phone else None
    found = ChannelAddress.objects.filter(customer=customer, channel=channel).values_list("address", flat=True).first()
    if not found:
        return None
    if channel != "wecom":
        return Recipient(address=found)
    # A WeCom message goes out from a staff account that holds the customer as a friend.
    sender = (
        SocialLink.objects.filter(customer=customer, status=SocialLink.Status.ADDED, account__kind="wecom")
        .exclude(account__handle="")
        .order_by("account_id")
        .values_list("account__handle", flat=True)
        .first()
    )
    return Recipient(address=found, sender=sender) if sender else None


def _refusal(*, shop: Shop, customer: Customer, channel: str, now: datetime, key: str) -> tuple[str, Recipient | None]:
    """The reason the message may not go ("" when it may) and the recipient. Reads the customer row
    as given (the caller holds its lock when it matters)."""
    if channel not in CHANNELS:
        return "unknown_channel", None
    if customer.shop_id != shop.pk or customer.anonymized_at is not None:
        return "no_consent", None
    if not config.channel_config_get(shop_id=shop.pk, channel=channel).enabled:
        return "channel_off", None
    if customer.marketing_consent_at is None:
        return ("unsubscribed" if Unsubscribe.objects.filter(customer=customer).exists() else "no_consent"), None
    rules = config.channel_settings_get(shop_id=shop.pk)
    if manners.in_quiet_hours(rules, now):
        return "quiet_hours", None
    recipient = _recipient(customer, channel)
    if recipient is None:
        return "no_address", None
    if manners.cap_reached(rules, customer_id=customer.pk, now=now, key=key):
        return "frequency_cap", None
    return "", recipient


def message_allowed(*, shop: Shop, customer: Customer, channel: str, now: datetime | None = None) -> tuple[bool, str]:
    """May a marketing message go to the customer on `channel` now? (allowed, reason): reasons
    unknown_channel, channel_off, no_consent, unsubscribed, quiet_hours, no_address, frequency_cap."""
    reason, _recipient_found = _refusal(
        shop=shop, customer=customer, channel=channel, now=now or timezone.now(), key=""
    )
    return reason == "", reason


def _result(row: MessageLog) -> SendResult:
    status = row.status if row.status != S.SENDING else S.FAILED
    reason = row.reason if row.status != S.SENDING else "in_progress"
    return SendResult(status=status, reason=reason, provider_id=row.provider_id, cost_fen=row.cost_fen)


def _text(*, shop: Shop, customer: Customer, message: Message) -> str:
    text = message.text.strip()
    if message.link and message.channel != "wechat_oa":
        text = f"{text} {message.link}"
    if message.channel == "sms":
        return text if text.endswith(SMS_SUFFIX) else f"{text} {SMS_SUFFIX}"
    with translation.override(django_settings.LANGUAGE_CODE):
        line = gettext("Unsubscribe: %(url)s") % {"url": unsubscribe_url(shop, customer)}
    return f"{text}\n\n{line}"


def _check(message: Message) -> str:
    if not isinstance(message, Message) or message.channel not in CHANNELS:
        raise InvalidInput(detail={"channel": "unknown"})
    if not message.text.strip() or len(message.text) > MAX_TEXT:
        raise InvalidInput(detail={"text": f"1 to {MAX_TEXT} characters"})
    key = message.key or f"once:{public_id(20)}"
    if len(key) > 120:
        raise InvalidInput(detail={"key": "at most 120 characters"})
    return key


def _claim(*, shop: Shop, customer: Customer, message: Message, key: str, now: datetime):
    """Step 1: (row, recipient, None) when this call owns the send, else (row, None, result)."""
    with transaction.atomic():
        locked = locks.lock_one(Customer.objects.filter(pk=customer.pk, shop=shop), rank=locks.REACTION)
        if locked is None:
            raise InvalidInput(detail={"customer": "not of this shop"})
        row = MessageLog.objects.filter(shop=shop, key=key).first()
        if row is not None and (row.status == S.SENT or row.reason in FINAL_REASONS):
            return row, None, _result(row)
        if row is not None and row.status == S.SENDING:
            if row.claimed_at > now - STALE:
                return row, None, _result(row)
            MessageLog.objects.filter(pk=row.pk, status=S.SENDING).update(status=S.FAILED, reason="outcome_unknown")
            row.refresh_from_db()
            return row, None, _result(row)
        reason, recipient = _refusal(shop=shop, customer=locked, channel=message.channel, now=now, key=key)
        status = S.REFUSED if reason else S.SENDING
        fields = {"status": status, "reason": reason, "claimed_at": now, "customer_id": locked.pk}
        if row is None:
            try:
                with transaction.atomic():
                    row = MessageLog.objects.create(shop=shop, channel=message.channel, key=key, **fields)
            except IntegrityError:  # the same key, claimed meanwhile for another customer
                row = MessageLog.objects.get(shop=shop, key=key)
                return row, None, _result(row)
        else:
            MessageLog.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1, provider_id="", **fields)
            row.refresh_from_db()
        if reason:
            return row, None, SendResult(status=S.REFUSED, reason=reason)
        return row, recipient, None


def _settle(row: MessageLog, *, status: str, reason: str = "", provider_id: str = "", cost: int = 0) -> SendResult:
    sent_at = timezone.now() if status == S.SENT else None
    MessageLog.objects.filter(pk=row.pk, status=S.SENDING).update(
        status=status, reason=reason[:200], provider_id=provider_id[:100], cost_fen=cost, sent_at=sent_at
    )
    return SendResult(status=status, reason=reason, provider_id=provider_id, cost_fen=cost)


def message_send(*, shop: Shop, customer: Customer, message: Message, now: datetime | None = None) -> SendResult:
    """Send one marketing message, at most once per `message.key` (see the module docstring).

    Returns sent, failed (provider error, "rate_limited", "in_progress": the caller retries with
    back-off and the same key) or refused (see message_allowed; "quiet_hours" is worth retrying
    after quiet_hours_end). Must not run inside a transaction: the provider is called in between."""
    key = _check(message)
    now = now or timezone.now()
    row, recipient, done = _claim(shop=shop, customer=customer, message=message, key=key, now=now)
    if done is not None:
        return done
    assert recipient is not None
    cfg = config.channel_config_get(shop_id=shop.pk, channel=message.channel)
    if not manners.rate_take(shop_id=shop.pk, channel=message.channel, per_minute=cfg.rate_per_minute, now=now):
        return _settle(row, status=S.FAILED, reason="rate_limited")
    text = _text(shop=shop, customer=customer, message=message)
    link = message.link or unsubscribe_url(shop, customer)
    try:
        provider_id = BACKENDS[message.channel](
            shop=shop,
            recipient=recipient,
            text=text,
            subject=message.subject,
            link=link,
            credentials=config.credentials_of(cfg),
        )
    except ChannelError as exc:
        return _settle(row, status=S.FAILED, reason=exc.reason)
    return _settle(row, status=S.SENT, provider_id=provider_id, cost=cfg.cost_fen)


def next_send_time(*, shop: Shop, now: datetime | None = None) -> datetime:
    """When a message refused for quiet hours may be tried again."""
    rules: ChannelSettings = config.channel_settings_get(shop_id=shop.pk)
    return manners.quiet_hours_end(rules, now or timezone.now())
