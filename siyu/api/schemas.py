"""Shapes shared by every endpoint: the error body, input rules, pagination, media URLs."""

import re
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, field_validator

# Ids beyond this cannot be rows of ours (and stay exact in JavaScript); larger ones would overflow SQLite.
MAX_ID = 2**53 - 1
MAX_FEN = 10_000_000_000
MAX_STOCK = 10_000_000
MAX_PAGE_SIZE = 100

# The characters `has_control_characters` refuses (lone surrogates aside: a pattern cannot name them),
# written so that JSON Schema, Python's re and pydantic's Rust engine all read them alike.
CONTROL_CLASS = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f"
# A name: text with at least one character that is not a space (the services strip names and
# refuse blank ones), and like all text no control characters.
NAME_PATTERN = f"^[^{CONTROL_CLASS}]*[^\\s{CONTROL_CLASS}][^{CONTROL_CLASS}]*$"
# What Python's str.strip() removes, spelled out, since `\s` means a different set in JSON Schema,
# Python and pydantic's Rust engine (U+0085 and U+FEFF are where they part).
STRIP_CLASS = "\\t-\\r\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# Text the services' trimming leaves as it is (no space at either end), for fields whose length
# rule counts the trimmed text.
TRIMMED_PATTERN = f"^[^{STRIP_CLASS}{CONTROL_CLASS}]([^{CONTROL_CLASS}]*[^{STRIP_CLASS}{CONTROL_CLASS}])?$"

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A mainland China mobile number, 11 ASCII digits (the length pins the pattern's end, so no engine's
# reading of `$` before a trailing newline matters).
Phone = Annotated[
    str,
    Field(min_length=11, max_length=11, pattern="^1[3-9][0-9]{9}", description="Mainland China mobile number."),
]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="Amount in fen (1/100 yuan), an integer.")]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_input.")
    message: str = Field(description="Human-readable message in the request's language.")
    detail: Any = Field(description="Structured detail; for invalid_input the field errors.")
    request_id: str = Field(description="This request's id, as in the X-Request-ID header and the server log.")


# The errors any operation may answer (each with the body above); 422 is never used: invalid input is 400.
ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 415, 429)}

# C0 controls except tab, newline and carriage return, DEL, and lone surrogates (which JSON's \ud800
# escapes can carry): PostgreSQL refuses NUL and non-UTF-8 text, and nobody types the rest.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def has_control_characters(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, dict):
        return any(has_control_characters(k) or has_control_characters(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_control_characters(v) for v in value)
    return False  # numbers, dates, files, and nested schemas (which check their own fields)


def _takes_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_bool(args[0])
    if origin is Literal:
        return any(isinstance(arg, bool) for arg in args)
    if origin is Union or origin is UnionType:
        return any(_takes_bool(arg) for arg in args)
    return False


def _item_type(annotation: Any) -> Any:
    """X of list[X] (or of list[X] | None); None for anything else."""
    if get_origin(annotation) in (Union, UnionType):
        found = [_item_type(arg) for arg in get_args(annotation) if arg is not type(None)]
        return found[0] if len(found) == 1 else None
    return get_args(annotation)[0] if get_origin(annotation) is list and get_args(annotation) else None


def bool_misused(annotation: Any, value: Any) -> bool:
    """True/false sent where a number or text is expected: pydantic would read True as 1."""
    if isinstance(value, bool):
        return not _takes_bool(annotation)
    item = _item_type(annotation) if isinstance(value, list) else None
    return item is not None and any(isinstance(v, bool) for v in value) and not _takes_bool(item)


class In(Schema):
    """Base of every request body and form: unknown fields are refused (unless a schema says
    otherwise), and so are control characters in any text, however deeply nested."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    # A field validator, not a model one: ninja hands model validators a wrapper object, not the
    # dict, whenever a schema ignores unknown fields, so a check on the raw input would be skipped.
    @field_validator("*", mode="before")
    @classmethod
    def _refuse_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name and bool_misused(cls.model_fields[info.field_name].annotation, value):
            raise ValueError("true or false is not accepted here")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        if has_control_characters(value):
            raise ValueError("control characters are not allowed")
        return value


class PageIn(In):
    """limit/offset paging for list endpoints (query parameters). Like every query parameter, a
    blank one (`?limit=`) is refused rather than read as its default."""

    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")
    offset: int = Field(0, ge=0, le=1_000_000)


def page_of(queryset: QuerySet, page: PageIn) -> dict:
    """One count and one slice: two queries whatever the page size."""
    count = queryset.count()
    items = list(queryset[page.offset : page.offset + page.limit])
    return {"count": count, "limit": page.limit, "offset": page.offset, "items": items}


def media_url(file, context: dict | None) -> str | None:
    """Absolute URL of a stored file, so app clients need not know the host."""
    if not file:
        return None
    request = (context or {}).get("request")
    url = file.url
    return request.build_absolute_uri(url) if request is not None else url
