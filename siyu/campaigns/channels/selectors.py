"""Reads for the console and API: the shop's channel settings (credentials by name only) and the
message log."""

from django.db.models import QuerySet

from siyu.core.errors import InvalidInput
from siyu.core.permissions import require
from siyu.shops.models import Shop

from . import config
from .messages import CHANNELS
from .models import MessageLog, MessageStatus


def channel_settings_view(*, actor, shop: Shop) -> dict:
    """Everything the settings page and API show (two queries). Secrets never leave: only which
    credential names are set."""
    require(actor, config.PERM_VIEW, shop_id=shop.pk)
    rules = config.channel_settings_get(shop_id=shop.pk)
    configs = config.channel_configs(shop_id=shop.pk)
    return {
        "quiet_start": config.minute_text(rules.quiet_start),
        "quiet_end": config.minute_text(rules.quiet_end),
        "cap_messages": rules.cap_messages,
        "cap_days": rules.cap_days,
        "channels": [
            {
                "channel": ch,
                "enabled": c.enabled,
                "cost_fen": c.cost_fen,
                "rate_per_minute": c.rate_per_minute,
                "credential_keys": list(config.CREDENTIAL_KEYS[ch]),
                "credentials_set": config.credentials_set(c),
            }
            for ch, c in configs.items()
        ],
    }


def messages_of(*, actor, shop: Shop, channel: str = "", status: str = "") -> QuerySet[MessageLog]:
    """The shop's message log, newest first, optionally of one channel and one status."""
    require(actor, config.PERM_VIEW, shop_id=shop.pk)
    rows = MessageLog.objects.filter(shop=shop).select_related("customer")
    if channel:
        if channel not in CHANNELS:
            raise InvalidInput(detail={"channel": "unknown"})
        rows = rows.filter(channel=channel)
    if status:
        if status not in MessageStatus.values:
            raise InvalidInput(detail={"status": "unknown"})
        rows = rows.filter(status=status)
    return rows.order_by("-id")
