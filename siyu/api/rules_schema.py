"""The segment rules tree (segments and automatic tags), as the OpenAPI document states it.

`siyu.customers.segments.rules_parse` is the rule; this module only tells clients (and the fuzz
gate) its shape: a group {"all": [...]} or {"any": [...]} nested at most MAX_DEPTH deep, whose items
are groups or conditions {"field", "op", "value"}, the value's shape depending on field and op.
Validation stays in the service, whose errors name the failing path (`detail.path`); a test keeps
the table below equal to the service's FIELDS. What JSON Schema cannot say, the descriptions do:
at most MAX_CONDITIONS conditions in all, and the low end of a `between` pair not above the high end.
"""

from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from siyu.customers.models import Lifecycle, Source
from siyu.customers.segments import MAX_CONDITIONS, MAX_DEPTH, MAX_LIST

from .schemas import NAME_PATTERN

_BIG_ID = 2**62
_TEXT = {"type": "string", "maxLength": 60, "pattern": NAME_PATTERN}
_ID = {"type": "integer", "minimum": 1, "maximum": _BIG_ID}
_FEN = {
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": 10**12, "description": "fen"},
        {
            "type": "string",
            "pattern": "^(100000000(\\.00?)?|[0-9]{1,8}(\\.[0-9]{1,2})?)$",
            "description": "yuan, e.g. 12.50",
        },
    ]
}


def _list(items: dict) -> dict:
    return {"type": "array", "items": items, "minItems": 1, "maxItems": MAX_LIST}


def _whole(low: int, high: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high}


def _pair(value: dict) -> dict:
    return {
        "type": "array",
        "items": value,
        "minItems": 2,
        "maxItems": 2,
        "description": "[low, high]; low is not above high.",
    }


def _choices(values: list[str]) -> dict:
    return {"type": "array", "items": {"enum": values}, "minItems": 1}


_COMPARE = ["=", "!=", ">", ">=", "<", "<="]
_DATES = [
    (["before", "after"], {"type": "string", "format": "date"}),
    (["within_days", "more_than_days_ago"], _whole(0, 36500)),
]
_SCORES = [(["=", ">=", "<="], _whole(1, 5))]
_LIFECYCLES = [value for value, _label in Lifecycle.choices]
_SOURCES = [value for value, _label in Source.choices]
_PLACE = [(["eq", "ne"], _TEXT), (["in", "not_in"], _list(_TEXT))]

# field -> [(ops, the value's schema)]; tests/api/test_rules_schema.py holds it to the service's FIELDS.
CONDITIONS: dict[str, list[tuple[list[str], dict]]] = {
    "tags": [
        (["has_any", "has_all", "has_none"], _list({"anyOf": [_ID, {"type": "string", "pattern": NAME_PATTERN}]}))
    ],
    "total_spent": [(_COMPARE, _FEN), (["between"], _pair(_FEN))],
    "order_count": [(_COMPARE, _whole(0, 10**9)), (["between"], _pair(_whole(0, 10**9)))],
    "last_order_at": _DATES,
    "first_order_at": _DATES,
    "product": [(["bought", "not_bought"], _list(_ID))],
    "category": [(["bought", "not_bought"], _list(_ID))],
    "imported_items": [(["contains", "not_contains"], _TEXT)],
    "city": _PLACE,
    "province": _PLACE,
    "lifecycle": [(["in", "not_in"], _choices(_LIFECYCLES))],
    "rfm_r": _SCORES,
    "rfm_f": _SCORES,
    "rfm_m": _SCORES,
    "source": [(["eq"], {"enum": _SOURCES}), (["in", "not_in"], _choices(_SOURCES))],
    "marketing_consent": [(["is"], {"type": "boolean"})],
}

_REF = "#/components/schemas/"


def _condition() -> dict:
    options = [
        {
            "type": "object",
            "properties": {"field": {"const": field}, "op": {"enum": ops}, "value": value},
            "required": ["field", "op", "value"],
            "additionalProperties": False,
        }
        for field, shapes in CONDITIONS.items()
        for ops, value in shapes
    ]
    return {"anyOf": options, "description": "A condition: a field, an operator and the value it compares with."}


def _group(level: int) -> dict:
    item: dict = {"$ref": f"{_REF}SegmentCondition"}
    if level < MAX_DEPTH:
        item = {"anyOf": [item, {"$ref": f"{_REF}SegmentRules{level + 1}"}]}
    items = {"type": "array", "items": item, "maxItems": MAX_CONDITIONS}
    return {
        "type": "object",
        "oneOf": [
            {"properties": {key: items}, "required": [key], "additionalProperties": False} for key in ("all", "any")
        ],
        "description": f"A group, level {level} of at most {MAX_DEPTH}: all or any of its items hold."
        if level > 1
        else f'Rules: a group {{"all": [...]}} or {{"any": [...]}} of conditions and groups, nested at '
        f"most {MAX_DEPTH} deep, with at most {MAX_CONDITIONS} conditions in all.",
    }


# Added to the document's components by openapi.document_input_rules.
RULES_COMPONENTS: dict[str, dict] = {
    "SegmentCondition": _condition(),
    "SegmentRules": _group(1),
    **{f"SegmentRules{level}": _group(level) for level in range(2, MAX_DEPTH + 1)},
}

# Pydantic refuses a $ref to a schema it did not make, so a field names its component with this key
# and openapi.document_input_rules turns it into the $ref once the components are in the document.
COMPONENT_KEY = "x-siyu-component"


def json_numbers(value: Any) -> Any:
    """JSON has one number type: 3.0 is the number 3, and JSON Schema's "integer" allows it. The
    rules' checks want Python ints, so whole floats become ints (fractions stay, to be refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: json_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_numbers(item) for item in value]
    return value


# Rules as a request takes them: checked by the service, described by the tree above.
RulesIn = Annotated[dict[str, Any], AfterValidator(json_numbers), WithJsonSchema({COMPONENT_KEY: "SegmentRules"})]
# An automatic tag's rules; {} (or null) makes a manual tag.
TagRulesIn = Annotated[
    dict[str, Any],
    AfterValidator(json_numbers),
    WithJsonSchema(
        {"anyOf": [{COMPONENT_KEY: "SegmentRules"}, {"type": "object", "maxProperties": 0, "description": "manual"}]}
    ),
]
