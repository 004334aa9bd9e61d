"""Order exports of other platforms: reading the file, recognising its layout, cleaning each value.

A layout names, for every field we keep, the column headers that carry it on one platform
(preferred first: Taobao has both 订单创建时间 and 订单付款时间, we count the order when it was placed).
Anything that is wrong with the whole file is an InvalidInput; anything wrong with one row is a
RowError, which the importer turns into a rejected row with its reason.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput

from .models import Source

# What a column can feed. `buyer` is the platform account name, used when there is no recipient name.
FIELDS = ("external_id", "phone", "name", "buyer", "amount", "placed_at", "address", "province", "city", "items")
ORDER_FIELDS = ("external_id", "amount", "placed_at")
MAX_AMOUNT_FEN = 2_147_483_647  # the ExternalOrder.amount column


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    source: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = ("external_id", "phone", "amount", "placed_at")

    def known_headers(self) -> set[str]:
        return {name for names in self.columns.values() for name in names}


LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        Layout(
            key="taobao",
            label="Taobao / Tmall",
            source=Source.TAOBAO,
            columns={
                "external_id": ("订单编号",),
                "buyer": ("买家会员名", "买家昵称"),
                "amount": ("买家实际支付金额", "实付金额"),
                "placed_at": ("订单创建时间", "订单付款时间", "付款时间"),
                "name": ("收货人姓名",),
                "phone": ("联系手机", "联系电话"),
                "address": ("收货地址",),
                "items": ("宝贝标题", "商品标题"),
            },
        ),
        Layout(
            key="jd",
            label="JD",
            source=Source.JD,
            columns={
                "external_id": ("订单号",),
                "buyer": ("下单帐号", "下单账号"),
                "amount": ("应付金额", "订单金额"),
                "placed_at": ("下单时间",),
                "name": ("客户姓名",),
                "phone": ("联系电话", "客户电话"),
                "address": ("客户地址",),
                "items": ("商品名称",),
            },
        ),
        Layout(
            key="pdd",
            label="Pinduoduo",
            source=Source.PDD,
            columns={
                "external_id": ("订单号",),
                "items": ("商品", "商品名称"),
                "amount": ("用户实付金额", "商家实收金额"),
                "placed_at": ("订单成交时间", "支付时间"),
                "name": ("收货人",),
                "phone": ("手机", "收货人手机号"),
                "province": ("省",),
                "city": ("市",),
                "address": ("详细地址",),
            },
        ),
        Layout(key="generic", label="Other (map the columns)", source=Source.IMPORT, columns={}, required=("phone",)),
    )
}


class RowError(Exception):
    """One row cannot be imported; `code` is one of REJECT_REASONS."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


REJECT_REASONS = {
    "phone_missing": _("No phone number."),
    "phone_masked": _("The phone number is masked (e.g. 138****8000); export with full numbers."),
    "phone_invalid": _("Not an 11-digit mainland China mobile number."),
    "order_missing": _("No order number."),
    "order_invalid": _("The order number is longer than 64 characters."),
    "amount_missing": _("No amount."),
    "amount_invalid": _("The amount is not a valid sum in yuan."),
    "date_missing": _("No order date."),
    "date_invalid": _("The order date is not a date we can read."),
}


def reject_reason_label(code: str) -> str:
    return str(REJECT_REASONS.get(code, code))


# --- reading the file ---------------------------------------------------------------------


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)  # (row number in the file, cells)


def read_table(*, filename: str, content: bytes) -> Table:
    """CSV (UTF-8, UTF-8 with BOM, GBK/GB18030, UTF-16 from Excel) or .xlsx; blank rows are skipped."""
    if not content:
        raise InvalidInput(_("The file is empty."), code="import_empty")
    name = (filename or "").lower()
    if content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    if content[:4] == b"\xd0\xcf\x11\xe0" or name.endswith(".xls"):
        raise InvalidInput(
            _("Old Excel .xls files cannot be read; save the file as .xlsx or CSV."), code="import_format"
        )
    if name.endswith(".xlsx"):
        raise InvalidInput(_("This is not a valid Excel file."), code="import_format")
    return _read_csv(_decode(content))


def _decode(content: bytes) -> str:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in content[:4096]:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return content.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise InvalidInput(
        _("The file is not a CSV in a known text encoding (UTF-8 or GBK) nor an .xlsx workbook."),
        code="import_encoding",
        detail={"encodings": ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"]},
    )


def _read_csv(text: str) -> Table:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput(_("The file is empty."), code="import_empty")
        rows = [(number, cells) for number, cells in enumerate(reader, start=2) if any(cells)]
    except csv.Error as exc:
        raise InvalidInput(_("The CSV file is malformed."), code="import_format", detail={"csv": str(exc)}) from None
    return Table(header=[clean_header(h) for h in header], rows=rows)


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise InvalidInput(_("This is not a valid Excel file."), code="import_format") from None
    try:
        values = book.active.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            raise InvalidInput(_("The file is empty."), code="import_empty")
        rows = [
            (number, list(cells))
            for number, cells in enumerate(values, start=2)
            if any(c is not None and str(c).strip() for c in cells)
        ]
    finally:
        book.close()
    return Table(header=[clean_header(h) for h in header], rows=rows)


def clean_header(value) -> str:
    return str(value if value is not None else "").strip().strip('"').strip("\ufeff").strip()


# --- the layout of a file -----------------------------------------------------------------


def detect_layout(header: list[str]) -> str | None:
    """The platform layout whose required columns are all there and whose columns match best."""
    present = set(header)
    best, best_score = None, 0
    for layout in LAYOUTS.values():
        if not layout.columns or _missing(layout, present, {}):
            continue
        score = len(layout.known_headers() & present)
        if score > best_score:
            best, best_score = layout.key, score
    return best


def _missing(layout: Layout, present: set[str], mapped: dict[str, str]) -> list[str]:
    missing = []
    for name in layout.required:
        if name in mapped.values():
            continue
        names = layout.columns.get(name, ())
        if not any(n in present for n in names):
            missing.append(" / ".join(names) if names else name)
    return missing


@dataclass(frozen=True)
class Plan:
    """Which cell of a row feeds which field, for one file."""

    layout: Layout
    index: dict[str, int]
    columns: dict[str, str]  # column name → field, as used (stored on the job)

    @property
    def has_orders(self) -> bool:
        return any(f in self.index for f in ORDER_FIELDS)


def make_plan(*, header: list[str], layout: str | None, mapping: dict[str, str] | None) -> Plan:
    """Resolve the columns for `layout` (detected when None), with `mapping` (column → field) on top."""
    mapping = {clean_header(k): str(v).strip() for k, v in (mapping or {}).items() if str(v).strip()}
    bad_fields = sorted({v for v in mapping.values() if v not in FIELDS})
    if bad_fields:
        raise InvalidInput(
            _("The mapping names fields that do not exist."),
            code="import_mapping",
            detail={"unknown_fields": bad_fields, "fields": list(FIELDS)},
        )
    absent = sorted(k for k in mapping if k not in header)
    if absent:
        raise InvalidInput(
            _("The mapping names columns that are not in the file."),
            code="import_columns",
            detail={"missing": absent, "header": header},
        )
    key = layout or detect_layout(header) or ("generic" if mapping else None)
    if key not in LAYOUTS:
        raise InvalidInput(
            _("The layout of this file was not recognised; choose one or map its columns."),
            code="import_layout",
            detail={"header": header, "layouts": list(LAYOUTS)},
        )
    chosen = LAYOUTS[key]
    present = set(header)
    missing = _missing(chosen, present, mapping)
    if chosen.key == "generic" and mapping and any(f in mapping.values() for f in ORDER_FIELDS):
        missing += [f for f in ("amount", "placed_at") if f not in mapping.values()]
    if missing:
        raise InvalidInput(
            _("Some columns this layout needs are missing: %(columns)s.") % {"columns": ", ".join(missing)},
            code="import_columns",
            detail={"layout": chosen.key, "missing": missing, "header": header},
        )
    index: dict[str, int] = {}
    for name, names in chosen.columns.items():
        for column in names:
            if column in present:
                index[name] = header.index(column)
                break
    for column, name in mapping.items():
        index[name] = header.index(column)
    columns = {header[i]: name for name, i in sorted(index.items(), key=lambda item: item[1])}
    return Plan(layout=chosen, index=index, columns=columns)


# --- cleaning values ----------------------------------------------------------------------

_PHONE_JUNK = re.compile(r"[\s\-()（）]")
_PHONE = re.compile(r"1[3-9]\d{9}")
_MONEY_JUNK = re.compile(r"[¥￥,，元\s]")
_DATE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[\sT]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?秒?)?)?"
)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    text = cell_text(value)
    while text[:1] in _FORMULA_START and text:
        text = text[1:].lstrip()
    return text[:limit]


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


def parse_amount(value) -> int:
    """Yuan to fen, exactly (Decimal), rounding half up to the fen."""
    if isinstance(value, float):
        value = repr(value)
    text = _MONEY_JUNK.sub("", cell_text(value))
    if not text:
        raise RowError("amount_missing")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise RowError("amount_invalid") from None
    if not amount.is_finite() or amount < 0:
        raise RowError("amount_invalid")
    fen = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if fen > MAX_AMOUNT_FEN:
        raise RowError("amount_invalid")
    return fen


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
    try:
        return datetime(*(int(part) for part in match.groups() if part is not None))
    except ValueError:
        raise RowError("date_invalid") from None


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
