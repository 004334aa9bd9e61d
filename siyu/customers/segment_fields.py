"""Segment rule fields that a higher domain adds (analytics' CLV figures, for instance).

The customer pool sits below the domains that compute things about customers, so it cannot import
them; instead they register fields here from their AppConfig.ready(). A field has a name, a label
(for the console's rule builder), its operators with the value check each takes (the same Check
objects the built-in fields use, so the builder and the API document describe them alike) and a
function building a Q over the Customer queryset (typically through a reverse relation, such as
`value__p_alive`). The segment service treats them like its own fields: parsed, checked, evaluated
in the same single statement, offered by `rules_vocabulary`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from .segment_values import Check

COMPARE = {"=": "exact", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


@dataclass(frozen=True)
class SegmentField:
    name: str
    label: Any  # a lazy translation
    ops: dict[str, Check]
    build: Callable[[str, Any], Q]  # (op, checked value) -> Q over Customer


_FIELDS: dict[str, SegmentField] = {}


def register_segment_field(*, name: str, label: Any, ops: dict[str, Check], build: Callable[[str, Any], Q]) -> None:
    """Add a rule field. Registering the same name again replaces it (apps' ready() may run twice
    in tests); a name the segment service already has is refused there, at parse time."""
    if not ops:
        raise ValueError(f"segment field {name!r} needs at least one operator")
    _FIELDS[name] = SegmentField(name=name, label=label, ops=dict(ops), build=build)


def registered_fields() -> dict[str, SegmentField]:
    return dict(_FIELDS)


def compare_q(lookup: str, *, scale: float = 1) -> Callable[[str, Any], Q]:
    """A builder for number fields: =, !=, >, >=, <, <= and between [low, high] on `lookup`, the
    rule's value multiplied by `scale` first (a percentage compared with a 0–1 column: 0.01)."""

    def build(op: str, value: Any) -> Q:
        if op == "between":
            return Q(**{f"{lookup}__gte": value[0] * scale, f"{lookup}__lte": value[1] * scale})
        if op == "!=":
            return ~Q(**{lookup: value * scale})
        return Q(**{f"{lookup}__{COMPARE[op]}": value * scale})

    return build


def flag_q(lookup: str) -> Callable[[str, Any], Q]:
    """A builder for a yes/no field: `is true` matches rows where `lookup` is true; `is false`
    matches everyone else (customers without a row too)."""

    def build(op: str, value: Any) -> Q:
        return Q(**{lookup: True}) if value else ~Q(**{lookup: True})

    return build
