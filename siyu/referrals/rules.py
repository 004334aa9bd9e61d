"""A shop's referral rules: the protection window and the rewards, made with defaults on first use."""

from django.db import transaction

from siyu.core.audit import audit_record
from siyu.core.errors import InvalidInput
from siyu.core.permissions import actor_user, require
from siyu.shops.models import Shop

from .models import ReferralSettings

PERM = "customers.manage"

# field: (lowest, highest) allowed; rewards are points or fen of store credit
LIMITS = {
    "window_days": (1, 365),
    "referrer_reward": (0, 1_000_000),
    "referee_reward": (0, 1_000_000),
}
FIELDS = ("enabled", "window_days", "reward_kind", "referrer_reward", "referee_reward")


def referral_settings_get(*, shop: Shop | int) -> ReferralSettings:
    """The shop's referral rules, made with the defaults on first use."""
    shop_id = shop if isinstance(shop, int) else shop.pk
    settings = ReferralSettings.objects.filter(shop_id=shop_id).first()
    if settings is None:
        settings, _ = ReferralSettings.objects.get_or_create(shop_id=shop_id)
    return settings


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _flag(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in {"1", "true", "on", "yes"}:
        return True
    if text in {"0", "false", "off", "no", ""}:
        return False
    return None


def _clean(current: ReferralSettings, data: dict) -> dict:
    values, errors = {}, {}
    for key, (low, high) in LIMITS.items():
        number = _whole(data.get(key, getattr(current, key)))
        if number is None:
            errors[key] = "not a whole number"
        elif not low <= number <= high:
            errors[key] = "out of range"
        else:
            values[key] = number
    kind = str(data.get("reward_kind", current.reward_kind))
    if kind not in ReferralSettings.RewardKind.values:
        errors["reward_kind"] = "unknown kind"
    else:
        values["reward_kind"] = kind
    enabled = _flag(data.get("enabled", current.enabled))
    if enabled is None:
        errors["enabled"] = "not a yes/no value"
    else:
        values["enabled"] = enabled
    if errors:
        raise InvalidInput(detail=errors)
    return values


def referral_settings_update(*, actor, shop: Shop, data: dict) -> ReferralSettings:
    """Change any of FIELDS (those left out keep their value). Audited.

    A changed reward applies to rewards created from now on; rewards already waiting keep the
    amount they were created with. A changed window applies to new bindings."""
    require(actor, PERM, shop_id=shop.pk)
    with transaction.atomic():
        ReferralSettings.objects.get_or_create(shop=shop)
        settings = ReferralSettings.objects.select_for_update().get(shop=shop)
        values = _clean(settings, data)
        before = {key: getattr(settings, key) for key in FIELDS}
        for key, value in values.items():
            setattr(settings, key, value)
        settings.save()
        changed = {k: {"from": before[k], "to": v} for k, v in values.items() if before[k] != v}
        audit_record(
            shop_id=shop.pk, actor=actor_user(actor), action="referral_settings.update", target=settings, data=changed
        )
    return settings
