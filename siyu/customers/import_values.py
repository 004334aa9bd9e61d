"""Cleaning the cells of an order export: phones, amounts, dates, regions, free text.

Each parser returns a clean value or raises RowError with a stable reason code; the importer turns
that into a rejected row with its reason, so a bad cell never stops an import and never slips in
as a wrong figure.
"""

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from siyu.core.spreadsheets import strip_formula_start

MAX_AMOUNT_FEN = 2_147_483_647  # the ExternalOrder.amount column


class RowError(Exception):
    """One row cannot be imported; `code` is one of REJECT_REASONS, `detail` the value at fault
    where showing it helps (the order status that was not counted)."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(code)


REJECT_REASONS = {
    "row_truncated": _("The row has fewer cells than the header: the file may be cut off."),
    "phone_missing": _("No phone number."),
    "phone_masked": _("The phone number is masked (e.g. 138****8000); export with full numbers."),
    "phone_invalid": _("Not an 11-digit mainland China mobile number."),
    "order_missing": _("No order number."),
    "order_invalid": _("The order number is longer than 64 characters."),
    "order_conflict": _("The same order number appears with another phone number."),
    "order_not_completed": _("Order not completed (closed, cancelled or unpaid); not counted"),
    "order_refunded": _("Order fully refunded; not counted"),
    "order_status_unknown": _("Unknown order status; not counted"),
    "order_status_missing": _("No order status."),
    "amount_missing": _("No amount."),
    "amount_invalid": _("The amount is not a valid sum in yuan."),
    "date_missing": _("No order date."),
    "date_invalid": _("The order date is not a date we can read."),
}


def reject_reason_label(code: str, detail: str = "") -> str:
    label = str(REJECT_REASONS.get(code, code))
    if not detail:
        return label
    return gettext("%(reason)s: %(value)s") % {"reason": label.rstrip("."), "value": detail}


# --- text ---------------------------------------------------------------------------------


def cell_text(value) -> str:
    """A cell as text, without the wrappers exports add to keep long numbers as text (="…", ', tab)."""
    if value.__class__ is not str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    text = value.strip()
    if text[:1] in ("=", "'"):
        if text.startswith('="') and text.endswith('"'):
            text = text[2:-1].strip()
        text = text.lstrip("'").strip()
    return text


def safe_text(value, limit: int) -> str:
    """Free text we store (names, titles): without a leading formula character, cut to the column."""
    return strip_formula_start(cell_text(value))[:limit]


# --- phones -------------------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"1[3-9]\d{9}")


def parse_phone(value) -> str:
    text = _PHONE_JUNK.sub("", cell_text(value))
    if not text:
        raise RowError("phone_missing")
    if "*" in text:
        raise RowError("phone_masked")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif len(text) == 13 and text.startswith("86"):
        text = text[2:]
    if not _PHONE.fullmatch(text):
        raise RowError("phone_invalid")
    return text


def pick_phone(values: list) -> str:
    """The first valid mobile among a row's phone cells, in the layout's order of preference.

    Taobao has 联系手机 and 联系电话; buyers put their mobile in either, and the other may hold a
    landline or nothing. With no valid mobile, the reason is the first filled cell's (a masked
    number says more than an empty second column)."""
    first_error: RowError | None = None
    for value in values:
        try:
            return parse_phone(value)
        except RowError as exc:
            if first_error is None or first_error.code == "phone_missing":
                first_error = exc
    raise first_error or RowError("phone_missing")


# --- amounts ------------------------------------------------------------------------------

# Plain decimals as exports write them: digits (thousands grouped by commas, or not at all), at
# most two places, an optional ¥ in front or 元 behind. No sign, no exponent: "1e3" or "-5" in an
# amount column is a broken cell, not ¥1,000 or a refund.
_YUAN = re.compile(r"¥?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?元?")
_FEN = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)分?")
_CENT = Decimal("0.01")


def parse_amount(value, *, unit: str = "yuan") -> int:
    """An amount cell in fen. `unit` is the column's: "yuan" (the usual) or "fen" (a header that
    says (分)). Spreadsheet numbers are taken at the value Excel shows, to the fen."""
    if isinstance(value, bool):
        raise RowError("amount_invalid")
    if isinstance(value, int | float | Decimal):
        return _amount_of_number(value, unit)
    text = unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "")
    if not text:
        raise RowError("amount_missing")
    match = (_FEN if unit == "fen" else _YUAN).fullmatch(text)
    if match is None:
        raise RowError("amount_invalid")
    whole = int(match.group(1).replace(",", ""))
    if unit == "fen":
        fen = whole
    else:
        fen = whole * 100 + int((match.group(2) or "0").ljust(2, "0"))
    return _in_range(fen)


def _amount_of_number(value, unit: str) -> int:
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise RowError("amount_invalid") from None
    if not amount.is_finite() or amount < 0:
        raise RowError("amount_invalid")
    if unit == "fen":
        if amount != amount.to_integral_value():
            raise RowError("amount_invalid")
        return _in_range(int(amount))
    cents = amount.quantize(_CENT)
    # A float cell of 29.9 arrives as 29.900000000000002 when Excel computed it; a third decimal
    # the sheet really holds (29.905) is not a sum in yuan.
    if abs(amount - cents) > Decimal("1e-9"):
        raise RowError("amount_invalid")
    return _in_range(int(cents * 100))


def _in_range(fen: int) -> int:
    if fen > MAX_AMOUNT_FEN:
        raise RowError("amount_invalid")
    return fen


# --- dates --------------------------------------------------------------------------------

_DATE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[\sT]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?秒?)?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")


@lru_cache(maxsize=1)
def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def parse_placed_at(value) -> datetime:
    """A date and time as exports write them; times without a zone are the shop's (China) time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        moment = _parse_date_text(cell_text(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone())
    if moment.year < 1990 or moment.year > 2999:
        raise RowError("date_invalid")
    return moment


def _parse_date_text(text: str) -> datetime:
    if not text:
        raise RowError("date_missing")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match is None:
        raise RowError("date_invalid")
    # Both patterns have six groups; a missing time part means midnight.
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise RowError("date_invalid") from None


# --- regions ------------------------------------------------------------------------------

_MUNICIPALITIES = ("北京", "天津", "上海", "重庆")
_PROVINCE = re.compile(r"(.{2,3}?省|.{2,8}?自治区|.{2,3}?特别行政区|北京|天津|上海|重庆)市?")
_CITY = re.compile(r"(.{2,10}?(?:自治州|地区|盟|市))")
# Some exports drop 省 / 自治区 (浙江杭州市…): the short names, longest first where one prefixes another.
_SHORT_PROVINCES = {
    **{
        n: n + "省"
        for n in (
            "河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 "
            "湖北 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾"
        ).split()
    },
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
    "香港": "香港特别行政区",
    "澳门": "澳门特别行政区",
}


def split_region(address: str) -> tuple[str, str]:
    """Province and city from a Chinese address, spaced (浙江省 杭州市 …) or not (浙江省杭州市…)."""
    text = re.sub(r"\s+", "", cell_text(address))
    match = _PROVINCE.match(text)
    if match is not None:
        province, end = match.group(1), match.end()
    else:
        short = next((s for s in (text[:3], text[:2]) if s in _SHORT_PROVINCES), None)
        if short is None:
            return "", ""
        province, end = _SHORT_PROVINCES[short], len(short)
    if province in _MUNICIPALITIES:
        return province + "市", province + "市"
    city = _CITY.match(text, end)
    return province, city.group(1) if city else ""
