"""The OpenAPI document states the input rules every operation enforces (siyu/api/errors.py and the
`In` schema), so a client, or the fuzz gate, knows them without reading our code:

- text never carries control characters (tab, newline and carriage return aside): a `pattern`;
- a query or path value is never blank (`minLength: 1`) and never null (a missing parameter is
  how one says "no filter"), so "" is not among a filter's choices either;
- a multipart body has only its named parts, none of them null (an optional part is left out),
  and no file part is empty.
"""

from typing import Any

from ninja import NinjaAPI

from .rules_schema import COMPONENT_KEY, RULES_COMPONENTS

# The same characters as `schemas.has_control_characters` (lone surrogates cannot be written in
# a JSON Schema pattern; they are refused all the same).
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def _is_free_text(schema: dict) -> bool:
    return schema.get("type") == "string" and "enum" not in schema and "format" not in schema


def _text_rules(schema: dict, components: dict, seen: set[str]) -> None:
    """Add the pattern to every free-text field of an input schema, following references."""
    ref = schema.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _text_rules(components.get(name, {}), components, seen)
        return
    if _is_free_text(schema):
        schema.setdefault("pattern", TEXT_PATTERN)
    for key in ("anyOf", "allOf", "oneOf"):
        for option in schema.get(key, []):
            _text_rules(option, components, seen)
    for child in (schema.get("items"), schema.get("additionalProperties")):
        if isinstance(child, dict):
            _text_rules(child, components, seen)
    for prop in schema.get("properties", {}).values():
        _text_rules(prop, components, seen)


def _never_null(schema: dict) -> dict:
    """`X | None` as just X: where a value is left out rather than sent as null."""
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    if len(options) == 1 and "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        schema = {**rest, **options[0]}
    return schema


def _url_value_rules(schema: dict) -> dict:
    schema = _never_null(schema)
    if schema.get("type") == "string":
        if "enum" in schema:
            schema["enum"] = [v for v in schema["enum"] if v != ""]
            if schema.get("default") == "":
                del schema["default"]
        else:
            schema["minLength"] = max(1, schema.get("minLength", 0))
            if "format" not in schema:
                schema.setdefault("pattern", TEXT_PATTERN)
    return schema


def _multipart_rules(schema: dict, components: dict) -> None:
    """A multipart body is read for its named parts only (files and form fields); say so, so that
    nobody sends other parts (ninja's file-only bodies would otherwise be an open object).

    And a file part holds at least one byte: every service refuses an empty file, and a part with
    headers but no body (how some encoders, werkzeug's among them, write an empty file) is not a
    file to Django's parser at all, so the operation would answer that the part is missing."""
    ref = schema.get("$ref")
    target = components.get(ref.rsplit("/", 1)[1], {}) if ref else schema
    if target.get("type") == "object" and "properties" in target:
        target.setdefault("additionalProperties", False)
    parts = target.get("properties", {})
    for name, part in parts.items():
        # An optional part is left out; multipart has no null.
        part = parts[name] = _never_null(part)
        for option in (part, part.get("items") or {}):
            if option.get("format") == "binary":
                option["minLength"] = max(1, option.get("minLength", 0))


def _component_refs(node: Any) -> None:
    """{COMPONENT_KEY: name} (see rules_schema) becomes {"$ref": "#/components/schemas/name"}."""
    if isinstance(node, dict):
        name = node.pop(COMPONENT_KEY, None)
        if name is not None:
            node["$ref"] = f"#/components/schemas/{name}"
        for value in node.values():
            _component_refs(value)
    elif isinstance(node, list):
        for value in node:
            _component_refs(value)


def document_input_rules(doc: dict[str, Any]) -> dict[str, Any]:
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update(RULES_COMPONENTS)  # the rules tree that `RulesIn` fields refer to
    _component_refs(doc)
    seen: set[str] = set()
    for methods in doc.get("paths", {}).values():
        for operation in methods.values():
            for param in operation.get("parameters", []):
                if param.get("in") in ("query", "path"):
                    param["schema"] = _url_value_rules(param.get("schema", {}))
            for content_type, media in operation.get("requestBody", {}).get("content", {}).items():
                _text_rules(media.get("schema", {}), components, seen)
                if content_type == "multipart/form-data":
                    _multipart_rules(media.get("schema", {}), components)
    return doc


class DocumentedAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return document_input_rules(super().get_openapi_schema(*args, **kwargs))
