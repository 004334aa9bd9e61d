"""Changing a shop's customer-pool rules: lifecycle thresholds and the points rules."""

from siyu.core.errors import InvalidInput
from siyu.core.settings_rows import numbers_within, settings_row_update
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


def _clean(current: CrmSettings, data: dict) -> dict:
    errors: dict = {}
    values = numbers_within(current=current, data=data, limits=LIMITS, errors=errors)
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
    return settings_row_update(
        CrmSettings, actor=actor, shop_id=shop.pk, perm=PERM, clean=_clean, data=data, action="crm_settings.update"
    )
