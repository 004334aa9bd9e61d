"""A shop's referral rules: the protection window and the rewards, made with defaults on first use."""

from siyu.core.errors import InvalidInput
from siyu.core.settings_rows import numbers_within, settings_row_update, yes_no
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


def _clean(current: ReferralSettings, data: dict) -> dict:
    errors: dict = {}
    values: dict = numbers_within(current=current, data=data, limits=LIMITS, errors=errors)
    kind = str(data.get("reward_kind", current.reward_kind))
    if kind not in ReferralSettings.RewardKind.values:
        errors["reward_kind"] = "unknown kind"
    else:
        values["reward_kind"] = kind
    enabled = yes_no(data.get("enabled", current.enabled))
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
    return settings_row_update(
        ReferralSettings,
        actor=actor,
        shop_id=shop.pk,
        perm=PERM,
        clean=_clean,
        data=data,
        action="referral_settings.update",
    )
