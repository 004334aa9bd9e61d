"""A shop's channel settings: which channels are on, what a message costs, how fast each may send,
credentials (encrypted; never shown back, only which are set), quiet hours and the frequency cap.

Reading never writes: a shop that never saved gets unsaved rows with the defaults (the log channel
on, the others off until configured; SMS 5 fen a message).
"""

import json
import re

from django.db import transaction

from siyu.core import locks
from siyu.core.audit import audit_record
from siyu.core.errors import InvalidInput
from siyu.core.permissions import actor_user, require
from siyu.core.settings_rows import numbers_within, yes_no
from siyu.shops.models import Shop

from .messages import CHANNELS
from .models import ChannelConfig, ChannelSettings

PERM_VIEW = "customers.view"
PERM_MANAGE = "integrations.manage"
DEFAULT_ENABLED = {"log"}
DEFAULT_COSTS = {"log": 0, "sms": 5, "email": 0, "wecom": 0, "wechat_oa": 0}
# which credential names each channel takes (SMS sends through the platform's SMS account; a shop
# sets only the token its providers' reply callbacks must carry: see sms_replies.py)
CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    "log": (),
    "sms": ("inbound_token",),
    "email": ("from_email",),
    "wecom": ("corp_id", "secret"),
    "wechat_oa": ("app_id", "secret", "template_id", "field"),
}
SECRET_KEYS = {"secret", "inbound_token"}
LIMITS = {"cap_messages": (0, 100), "cap_days": (1, 365)}
CONFIG_LIMITS = {"cost_fen": (0, 100_000), "rate_per_minute": (1, 100_000)}
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def channel_settings_get(*, shop_id: int) -> ChannelSettings:
    return ChannelSettings.objects.filter(shop_id=shop_id).first() or ChannelSettings(shop_id=shop_id)


def _default_config(shop_id: int, channel: str) -> ChannelConfig:
    return ChannelConfig(
        shop_id=shop_id, channel=channel, enabled=channel in DEFAULT_ENABLED, cost_fen=DEFAULT_COSTS[channel]
    )


def channel_configs(*, shop_id: int) -> dict[str, ChannelConfig]:
    """Every channel's configuration, in CHANNELS order (one query)."""
    saved = {c.channel: c for c in ChannelConfig.objects.filter(shop_id=shop_id)}
    return {ch: saved.get(ch) or _default_config(shop_id, ch) for ch in CHANNELS}


def channel_config_get(*, shop_id: int, channel: str) -> ChannelConfig:
    return ChannelConfig.objects.filter(shop_id=shop_id, channel=channel).first() or _default_config(shop_id, channel)


def credentials_of(config: ChannelConfig) -> dict:
    try:
        value = json.loads(config.credentials or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def credentials_set(config: ChannelConfig) -> list[str]:
    """Names of the credentials that have a value (what the console and API show)."""
    return sorted(k for k, v in credentials_of(config).items() if v)


def minute_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(value, field: str, errors: dict) -> int | None:
    match = _TIME.fullmatch(str(value).strip()) if isinstance(value, str) else None
    if match is None:
        errors[field] = "HH:MM expected"
        return None
    return int(match[1]) * 60 + int(match[2])


def _clean_settings(row: ChannelSettings, data: dict, errors: dict) -> dict:
    values: dict = numbers_within(
        current=row, data={k: data[k] for k in LIMITS if k in data}, limits=LIMITS, errors=errors
    )
    for field in ("quiet_start", "quiet_end"):
        if field in data:
            minute = _minute(data[field], field, errors)
            if minute is not None:
                values[field] = minute
    return values


def _clean_channel(item, index: int, errors: dict) -> tuple[str, dict, dict | None]:
    where = f"channels[{index}]"
    if not isinstance(item, dict) or item.get("channel") not in CHANNELS:
        errors[where] = "an object with a known channel expected"
        return "", {}, None
    channel, values = item["channel"], {}  # type: tuple[str, dict]
    if "enabled" in item:
        flag = yes_no(item["enabled"])
        if flag is None:
            errors[f"{where}.enabled"] = "true or false expected"
        values["enabled"] = flag
    current = _default_config(0, channel)
    given = {k: item[k] for k in CONFIG_LIMITS if k in item}
    sub: dict = {}
    numbers = numbers_within(current=current, data=given, limits=CONFIG_LIMITS, errors=sub)
    values.update({k: v for k, v in numbers.items() if k in given})  # the others keep their value
    errors.update({f"{where}.{k}": v for k, v in sub.items()})
    creds = item.get("credentials")
    if creds is None:
        return channel, values, None
    allowed = CREDENTIAL_KEYS[channel]
    if not isinstance(creds, dict) or any(
        k not in allowed or not isinstance(v, str) or len(v) > 500 for k, v in creds.items()
    ):
        errors[f"{where}.credentials"] = f"an object of strings with keys among {list(allowed)}"
        return channel, values, None
    return channel, values, {k: v.strip() for k, v in creds.items()}


def channel_settings_update(*, actor, shop: Shop, data: dict) -> ChannelSettings:
    """Change quiet hours ("HH:MM"), the frequency cap and any channel's `enabled`, `cost_fen`,
    `rate_per_minute` and `credentials` (given names replace, an empty string removes; names not
    given keep their value). Audited, with credential names only. Locks: the settings row (shop rank),
    then the channel rows."""
    require(actor, PERM_MANAGE, shop_id=shop.pk)
    if not isinstance(data, dict):
        raise InvalidInput(detail={"body": "an object is expected"})
    errors: dict = {}
    channels = data.get("channels", [])
    if not isinstance(channels, list) or len(channels) > len(CHANNELS):
        errors["channels"] = "a list of channels expected"
        channels = []
    cleaned = [_clean_channel(item, i, errors) for i, item in enumerate(channels)]
    with transaction.atomic():
        ChannelSettings.objects.get_or_create(shop_id=shop.pk)
        row = locks.lock_one(ChannelSettings.objects.filter(shop_id=shop.pk), rank=locks.SHOP)
        values = _clean_settings(row, data, errors)
        if errors:
            raise InvalidInput(detail=errors)
        changed = {k: {"from": getattr(row, k), "to": v} for k, v in values.items() if getattr(row, k) != v}
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        for channel, fields, creds in cleaned:
            changed.update(_apply_channel(shop, channel, fields, creds))
        audit_record(shop_id=shop.pk, actor=actor_user(actor), action="channels.update", target=row, data=changed)
    return row


def _apply_channel(shop: Shop, channel: str, fields: dict, creds: dict | None) -> dict:
    config, _created = ChannelConfig.objects.get_or_create(
        shop=shop, channel=channel, defaults={"enabled": channel in DEFAULT_ENABLED, "cost_fen": DEFAULT_COSTS[channel]}
    )
    config = locks.lock_one(ChannelConfig.objects.filter(pk=config.pk), rank=locks.SHOP)
    changed = {
        f"{channel}.{k}": {"from": getattr(config, k), "to": v} for k, v in fields.items() if getattr(config, k) != v
    }
    for key, value in fields.items():
        setattr(config, key, value)
    if creds:
        current = credentials_of(config)
        for key, value in creds.items():
            if value:
                current[key] = value
            else:
                current.pop(key, None)
        config.credentials = json.dumps(current)
        changed[f"{channel}.credentials"] = {"changed": sorted(creds)}
    config.save()
    return changed


def channel_cost(*, shop: Shop, channel: str) -> int:
    """What one message on `channel` costs the shop, in fen."""
    if channel not in CHANNELS:
        raise InvalidInput(detail={"channel": "unknown"})
    return channel_config_get(shop_id=shop.pk, channel=channel).cost_fen
