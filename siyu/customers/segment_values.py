"""The values a segment condition takes: each check parses a value or raises Bad, and says what it
accepts (`describe()`), so an editor (the console's rule builder) draws the right input from the
same definitions the rules are checked with, never from a copy that could drift."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from siyu.core.errors import InvalidInput
from siyu.core.money import parse_yuan

MAX_LIST = 100
MAX_TEXT = 60


class Bad(Exception):
    """A rule problem found while parsing; turned into one InvalidInput with its path."""


@dataclass(frozen=True)
class Check:
    """One kind of value: whole (a number from low to high), fen (an amount), pair (of `item`),
    date, text, texts, ids, tags, choice, choices (from `choices`) or flag."""

    kind: str
    run: Callable[[Any], Any]
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] = ()
    item: "Check | None" = field(default=None)

    def __call__(self, value: Any) -> Any:
        return self.run(value)

    def describe(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        if self.low is not None:
            out.update(min=self.low, max=self.high)
        if self.choices:
            out["choices"] = list(self.choices)
        if self.item is not None:
            out["item"] = self.item.describe()
        return out


def int_in(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Bad(f"expected a whole number from {low} to {high}")
        return value

    return Check("whole", check, low=low, high=high)


def _fen(value: Any) -> int:
    if isinstance(value, bool):
        raise Bad("expected an amount in fen or a yuan string")
    if isinstance(value, int):
        if not 0 <= value <= 10**12:
            raise Bad("amount out of range")
        return value
    if isinstance(value, str):
        try:
            return parse_yuan(value)
        except InvalidInput:
            raise Bad("expected an amount in fen or a yuan string") from None
    raise Bad("expected an amount in fen or a yuan string")


def pair(item: Check) -> Check:
    def both(value: Any) -> tuple:
        if not isinstance(value, list) or len(value) != 2:
            raise Bad("expected [low, high]")
        low, high = item(value[0]), item(value[1])
        if low > high:
            raise Bad("low is above high")
        return low, high

    return Check("pair", both, item=item)


def _day(value: Any) -> date:
    if not isinstance(value, str):
        raise Bad("expected a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Bad("expected a date YYYY-MM-DD") from None


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise Bad(f"expected a non-empty text of at most {MAX_TEXT} characters")
    return value.strip()


def _texts(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise Bad(f"expected a list of 1 to {MAX_LIST} texts")
    return tuple(_text(v) for v in value)


_ID = int_in(1, 2**62)


def _ids(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise Bad(f"expected a list of 1 to {MAX_LIST} ids")
    return tuple(_ID(v) for v in value)


def _tag_refs(value: Any) -> tuple[int | str, ...]:
    """Tags by id (int) or by name (text), mixed freely."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise Bad(f"expected a list of 1 to {MAX_LIST} tag ids or names")
    return tuple(v if isinstance(v, str) and v.strip() else _ID(v) for v in value)


def choices(allowed: list[str]) -> Check:
    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or any(v not in allowed for v in value):
            raise Bad(f"expected a list of: {', '.join(allowed)}")
        return tuple(value)

    return Check("choices", check, choices=tuple(allowed))


def choice(allowed: list[str]) -> Check:
    def check(value: Any) -> str:
        if value not in allowed:
            raise Bad(f"expected one of: {', '.join(allowed)}")
        return value

    return Check("choice", check, choices=tuple(allowed))


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Bad("expected true or false")
    return value


FEN = Check("fen", _fen)
DAY = Check("date", _day)
TEXT = Check("text", _text)
TEXTS = Check("texts", _texts)
IDS = Check("ids", _ids)
TAGS = Check("tags", _tag_refs)
FLAG = Check("flag", _flag)
