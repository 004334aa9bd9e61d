"""Changing a shop's customer-pool rules: lifecycle thresholds and the points rules."""

from django.db import transaction

from siyu.core.audit import audit_record
from siyu.core.errors import InvalidInput
from siyu.core.permissions import actor_user, require
from siyu.shops.models import Shop

from .models import CrmSettings

PERM = "customers.manage"

# field: (lowest, highest) allowed
LIMITS = {
    "new_days": (1, 3650),
    "active_days": (1, 3650),
    "at_risk_days": (1, 3650),
    "dormant_days": (1, 3650),
    "points_per_yuan": (0, 1000),
    "points_per_yuan_redeemed": (1, 100_000),
    "max_redeem_bp": (0, 10_000),
    "points_valid_days": (1, 3650),
}
FIELDS = tuple(LIMITS)


def _whole(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _clean(current: CrmSettings, data: dict) -> dict:
    values, errors = {}, {}
    for key in FIELDS:
        raw = data.get(key, getattr(current, key))
        number = _whole(raw)
        low, high = LIMITS[key]
        if number is None:
            errors[key] = "not a whole number"
        elif not low <= number <= high:
            errors[key] = "out of range"
        else:
            values[key] = number
    if not errors:
        # A customer moves active → at risk → dormant → lost as time passes, so the limits must grow.
        if not values["active_days"] < values["at_risk_days"]:
            errors["at_risk_days"] = "must be more than the active days"
        if not values["at_risk_days"] < values["dormant_days"]:
            errors["dormant_days"] = "must be more than the at-risk days"
    if errors:
        raise InvalidInput(detail=errors)
    return values


def crm_settings_update(*, actor, shop: Shop, data: dict) -> CrmSettings:
    """Change any of the fields in FIELDS; the ones left out keep their value. Audited."""
    require(actor, PERM, shop_id=shop.pk)
    with transaction.atomic():
        CrmSettings.objects.get_or_create(shop=shop)
        settings = CrmSettings.objects.select_for_update().get(shop=shop)
        values = _clean(settings, data)
        before = {key: getattr(settings, key) for key in FIELDS}
        for key, value in values.items():
            setattr(settings, key, value)
        settings.save()
        changed = {k: {"from": before[k], "to": v} for k, v in values.items() if before[k] != v}
        audit_record(
            shop_id=shop.pk, actor=actor_user(actor), action="crm_settings.update", target=settings, data=changed
        )
    return settings
