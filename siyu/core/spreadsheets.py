"""Cells that go into a spreadsheet a merchant opens (CSV or .xlsx).

Excel and WPS run a cell that starts with = + - @ (or a tab or carriage return) as a formula, so
text from shoppers or marketplace files (names, notes, titles) could become a formula on the
merchant's machine. Every export writes cells through `safe_cell`; imports strip the characters
from free text they store (`strip_formula_start`).
"""

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (shown as plain text);
    other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def strip_formula_start(text: str) -> str:
    """Free text without the leading characters that would make it a formula."""
    while text[:1] in FORMULA_STARTS and text:
        text = text[1:].lstrip()
    return text
