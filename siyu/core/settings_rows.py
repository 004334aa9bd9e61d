"""A shop's settings rows (one row per shop per domain: CRM rules, referral rules, …).

Reading never writes: a shop that never saved its settings gets an unsaved row with the defaults.
Changing goes through `settings_row_update`, which locks the row, lets the domain clean the values,
saves and audits what changed. The domains keep only their own limits and cross-field rules.
"""

import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import models, transaction

from .audit import audit_record
from .errors import InvalidInput
from .permissions import require

Row = TypeVar("Row", bound=models.Model)
_WHOLE = re.compile(r"-?[0-9]{1,12}")


def settings_row_get(model: type[Row], *, shop_id: int) -> Row:
    """The shop's row, or an unsaved one with the defaults."""
    return model._default_manager.filter(shop_id=shop_id).first() or model(shop_id=shop_id)


def whole_number(value: Any) -> int | None:
    """An int from a form or JSON value; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value if value is not None else "").strip()
    return int(text) if _WHOLE.fullmatch(text) else None


def yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in {"1", "true", "on", "yes"}:
        return True
    if text in {"0", "false", "off", "no", ""}:
        return False
    return None


def numbers_within(
    *, current: models.Model, data: dict, limits: dict[str, tuple[int, int]], errors: dict
) -> dict[str, int]:
    """Each field of `limits` from `data` (or its current value) as a whole number in range."""
    values = {}
    for key, (low, high) in limits.items():
        number = whole_number(data.get(key, getattr(current, key)))
        if number is None:
            errors[key] = "not a whole number"
        elif not low <= number <= high:
            errors[key] = "out of range"
        else:
            values[key] = number
    return values


def settings_row_update(
    model: type[Row],
    *,
    actor: Any,
    shop_id: int,
    perm: str,
    clean: Callable[[Row, dict], dict],
    data: dict,
    action: str,
) -> Row:
    """Change a shop's settings row: `clean(current, data)` returns the new values or fills errors
    by raising InvalidInput; fields it leaves out keep their value. Audited with from/to per field.

    Locks: the shop's settings row."""
    require(actor, perm, shop_id=shop_id)
    if not isinstance(data, dict):
        raise InvalidInput(detail={"body": "an object is expected"})
    with transaction.atomic():
        model._default_manager.get_or_create(shop_id=shop_id)
        row = model._default_manager.select_for_update().get(shop_id=shop_id)
        values = clean(row, data)
        before = {key: getattr(row, key) for key in values}
        for key, value in values.items():
            setattr(row, key, value)
        row.save()
        changed = {k: {"from": before[k], "to": v} for k, v in values.items() if before[k] != v}
        audit_record(shop_id=shop_id, actor=actor, action=action, target=row, data=changed)
    return row
