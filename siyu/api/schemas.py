"""Shapes shared by every endpoint: the error body, input rules, pagination, media URLs."""

from typing import Annotated, Any

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator, model_validator

# Ids beyond this cannot be rows of ours (and stay exact in JavaScript); larger ones would overflow SQLite.
MAX_ID = 2**53 - 1
MAX_FEN = 10_000_000_000
MAX_STOCK = 10_000_000
MAX_PAGE_SIZE = 100

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Fen = Annotated[int, Field(ge=0, le=MAX_FEN, description="Amount in fen (1/100 yuan), an integer.")]


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_input.")
    message: str = Field(description="Human-readable message in the request's language.")
    detail: Any = Field(description="Structured detail; for invalid_input the field errors.")


ERRORS: dict[int, type[Schema]] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422, 429)}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class In(Schema):
    """Base of every request body: unknown fields are refused, and so are NUL characters
    (PostgreSQL cannot store them, so they would otherwise fail deep inside a save)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("NUL characters are not allowed")
        return data


class PageIn(Schema):
    """limit/offset paging for list endpoints (query parameters)."""

    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description=f"Page size, at most {MAX_PAGE_SIZE}.")
    offset: int = Field(0, ge=0, le=1_000_000)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any, info) -> Any:
        # Clients often send `?category=`; an empty filter means no filter.
        if value == "":
            field = cls.model_fields[info.field_name]
            return field.default
        return value


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
