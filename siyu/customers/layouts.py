"""Order exports of other platforms: reading the file, recognising its layout, which orders count.

A layout names, for every field we keep, the column headers that carry it on one platform
(preferred first: Taobao has both 订单创建时间 and 订单付款时间, we count the order when it was placed).
Headers are compared once normalised (full-width forms folded, spaces dropped, a unit suffix such
as "(元)" or "（分）" taken off and remembered), so 用户实付金额(元) is 用户实付金额 in yuan.
Anything that is wrong with the whole file is an InvalidInput; anything wrong with one row is a
RowError, which the importer turns into a rejected row with its reason.

Which orders count (spend, order count, RFM, lifetime value) — an export is the seller's history,
and closed or unpaid orders are not sales:
- Taobao/Tmall 订单状态: 交易成功, 卖家已发货(，等待买家确认), 买家已付款(，等待卖家发货) and 部分发货
  count; 交易关闭 (which is also how Taobao shows a fully refunded order), 等待买家付款 and 退款成功
  do not. A 退款状态 column saying 退款成功 makes the row a fully refunded one.
- JD 订单状态: 完成/已完成, 等待收货/等待确认收货, 等待出库/已出库 count; 已取消, 锁定, 暂停,
  等待付款, 删除 and 配送退货 do not.
- Pinduoduo 订单状态: 待发货, 已发货(，待收货/待签收), 已签收 count; 已取消, 未付款/待付款 and 退款成功
  do not; a 售后状态 of 退款成功 means fully refunded (partial refunds still count in full: the
  export does not say how much of the order was refunded).
- A status we do not know is not counted either: the row comes back with its value, so the seller
  can tell us, rather than a wrong figure going unnoticed. An empty status likewise.
- Other files (the generic layout) count every row unless a column is mapped to "status", which is
  then read with all the platforms' words.
"""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from siyu.core.errors import InvalidInput

from .import_values import RowError, cell_text
from .models import Source

# What a column can feed. `buyer` is the platform account name, used when there is no recipient
# name; `status` and `refund_status` say whether the order counts.
FIELDS = (
    "external_id",
    "phone",
    "name",
    "buyer",
    "amount",
    "placed_at",
    "address",
    "province",
    "city",
    "items",
    "status",
    "refund_status",
)
ORDER_FIELDS = ("external_id", "amount", "placed_at")
PLATFORM_REQUIRED = ("external_id", "phone", "amount", "placed_at", "status")


def status_key(value) -> str:
    """A status as compared: full-width folded, spaces and punctuation dropped
    (卖家已发货，等待买家确认 and 卖家已发货/等待买家确认 are one status)."""
    text = unicodedata.normalize("NFKC", cell_text(value))
    return re.sub(r"[\s,、/;:()\[\]【】.。·\-—_|]", "", text)


def _keys(*values: str) -> frozenset[str]:
    return frozenset(status_key(v) for v in values)


@dataclass(frozen=True)
class Statuses:
    """A platform's order statuses: those that are sales, and those that are not."""

    counted: frozenset[str] = frozenset()
    closed: frozenset[str] = frozenset()


# Words that mark a status we have not listed as closed all the same (a "not completed" reason
# says more than "unknown"; neither counts).
_CLOSED_WORDS = ("关闭", "取消", "退款成功", "未付款", "待付款", "等待买家付款", "等待付款")
_REFUNDED = _keys("退款成功", "退款完成", "已退款", "退货退款成功")

TAOBAO_STATUSES = Statuses(
    counted=_keys(
        "交易成功",
        "卖家已发货，等待买家确认",
        "卖家已发货，等待买家确认收货",
        "卖家已发货",
        "等待买家确认收货",
        "买家已付款，等待卖家发货",
        "买家已付款",
        "等待卖家发货",
        "卖家部分发货",
        "部分发货",
    ),
    closed=_keys("交易关闭", "等待买家付款", "退款成功", "付款以前，卖家或买家主动关闭交易", "已关闭"),
)
JD_STATUSES = Statuses(
    counted=_keys("完成", "已完成", "等待收货", "等待确认收货", "等待出库", "已出库"),
    closed=_keys("已取消", "取消", "锁定", "暂停", "等待付款", "等待付款确认", "删除", "配送退货", "退款成功"),
)
PDD_STATUSES = Statuses(
    counted=_keys("待发货", "已发货，待收货", "已发货，待签收", "已发货", "待收货", "已签收", "已收货", "交易成功"),
    closed=_keys("已取消", "未付款", "待付款", "退款成功", "已关闭", "交易关闭"),
)
ANY_STATUSES = Statuses(
    counted=TAOBAO_STATUSES.counted | JD_STATUSES.counted | PDD_STATUSES.counted,
    closed=TAOBAO_STATUSES.closed | JD_STATUSES.closed | PDD_STATUSES.closed,
)


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    source: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...] = PLATFORM_REQUIRED
    statuses: Statuses = ANY_STATUSES
    # "order": the amount on each row is the whole order's, repeated on every line of a
    # multi-row order: taken once (the largest, should the rows disagree or later ones be empty);
    # "line": each row carries its own line's amount: added up.
    amount_per: str = "order"

    def known_headers(self) -> set[str]:
        return {name for names in self.columns.values() for name in names}


LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        # One row per order (订单报表); 宝贝标题 holds the order's titles.
        Layout(
            key="taobao",
            label="Taobao / Tmall",
            source=Source.TAOBAO,
            statuses=TAOBAO_STATUSES,
            columns={
                "external_id": ("订单编号",),
                "buyer": ("买家会员名", "买家昵称"),
                "amount": ("买家实际支付金额", "实付金额"),
                "placed_at": ("订单创建时间", "订单付款时间", "付款时间"),
                "name": ("收货人姓名",),
                "phone": ("联系手机", "联系电话"),
                "address": ("收货地址",),
                "items": ("宝贝标题", "商品标题"),
                "status": ("订单状态",),
                "refund_status": ("退款状态",),
            },
        ),
        # One row per SKU: 订单号, 应付金额 and 订单状态 are the order's, repeated on each line.
        Layout(
            key="jd",
            label="JD",
            source=Source.JD,
            statuses=JD_STATUSES,
            columns={
                "external_id": ("订单号",),
                "buyer": ("下单帐号", "下单账号"),
                "amount": ("应付金额", "订单金额"),
                "placed_at": ("下单时间",),
                "name": ("客户姓名",),
                "phone": ("联系电话", "客户电话"),
                "address": ("客户地址",),
                "items": ("商品名称",),
                "status": ("订单状态",),
            },
        ),
        # One row per order (an order holds one product); amounts may say (元).
        Layout(
            key="pdd",
            label="Pinduoduo",
            source=Source.PDD,
            statuses=PDD_STATUSES,
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
                "status": ("订单状态",),
                "refund_status": ("售后状态",),
            },
        ),
        # The seller's own sheet: a repeated order number is an order of several lines.
        Layout(
            key="generic",
            label="Other (map the columns)",
            source=Source.IMPORT,
            columns={},
            required=("phone",),
            amount_per="line",
        ),
    )
}


def order_status_check(layout: Layout, status, refund_status=None) -> None:
    """Refuse (RowError) a row whose order is not a sale: closed, cancelled, unpaid, fully refunded,
    or in a status we do not know."""
    shown = cell_text(status)
    key = status_key(shown)
    if not key:
        raise RowError("order_status_missing")
    refund = status_key(refund_status)
    if refund in _REFUNDED:
        raise RowError("order_refunded", cell_text(refund_status))
    if key in layout.statuses.counted:
        return
    if key in layout.statuses.closed or any(word in key for word in _CLOSED_WORDS):
        raise RowError("order_not_completed", shown)
    raise RowError("order_status_unknown", shown[:40])


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
    # A CSV row with fewer cells than the header was cut off (the importer reports it as such).
    return Table(header=_trimmed([clean_header(h) for h in header]), rows=rows)


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise InvalidInput(_("This is not a valid Excel file."), code="import_format") from None
    try:
        values = book.active.iter_rows(values_only=True)
        first = next(values, None)
        if first is None:
            raise InvalidInput(_("The file is empty."), code="import_empty")
        header = _trimmed([clean_header(h) for h in first])
        # A sheet stores no empty trailing cells, so a short row is not a cut-off one: pad it.
        width = len(header)
        rows = [
            (number, [*cells, *([None] * (width - len(cells)))])
            for number, cells in enumerate(values, start=2)
            if any(c is not None and str(c).strip() for c in cells)
        ]
    finally:
        book.close()
    return Table(header=header, rows=rows)


def _trimmed(header: list[str]) -> list[str]:
    """Without the empty names at the end (a stray trailing delimiter), which feed nothing."""
    end = len(header)
    while end and not header[end - 1]:
        end -= 1
    return header[:end]


def clean_header(value) -> str:
    return str(value if value is not None else "").strip().strip('"').strip("\ufeff").strip()


_UNIT = re.compile(r"(.*?)\((元|分)\)")


def header_key(value) -> tuple[str, str | None]:
    """A header as compared, and the unit it names: 用户实付金额（元） → (用户实付金额, "yuan")."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean_header(value)))
    match = _UNIT.fullmatch(text)
    if match is None:
        return text, None
    return match.group(1), "fen" if match.group(2) == "分" else "yuan"


# --- the layout of a file -----------------------------------------------------------------


def detect_layout(header: list[str]) -> str | None:
    """The platform layout whose required columns are all there and whose columns match best."""
    present = {header_key(h)[0] for h in header}
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
    index: dict[str, int]  # field → its column (the first of the layout's names the file has)
    columns: dict[str, str]  # column name → field, as used (stored on the job)
    phones: tuple[int, ...] = ()  # every phone column, preferred first: the row's first valid mobile wins
    width: int = 0  # the cells of a whole row
    amount_unit: str = "yuan"

    @property
    def has_orders(self) -> bool:
        return any(f in self.index for f in ORDER_FIELDS)


def make_plan(*, header: list[str], layout: str | None, mapping: dict[str, str] | None) -> Plan:
    """Resolve the columns for `layout` (detected when None), with `mapping` (column → field) on top."""
    keys = [header_key(h)[0] for h in header]
    mapping = {header_key(k)[0]: str(v).strip() for k, v in (mapping or {}).items() if str(v).strip()}
    _check_mapping(mapping, keys, header)
    key = layout or detect_layout(header) or ("generic" if mapping else None)
    if key not in LAYOUTS:
        raise InvalidInput(
            _("The layout of this file was not recognised; choose one or map its columns."),
            code="import_layout",
            detail={"header": header, "layouts": list(LAYOUTS)},
        )
    chosen = LAYOUTS[key]
    missing = _missing(chosen, set(keys), mapping)
    if chosen.key == "generic" and mapping and any(f in mapping.values() for f in ORDER_FIELDS):
        missing += [f for f in ("amount", "placed_at") if f not in mapping.values()]
    if missing:
        raise InvalidInput(
            _("Some columns this layout needs are missing: %(columns)s.") % {"columns": ", ".join(missing)},
            code="import_columns",
            detail={"layout": chosen.key, "missing": missing, "header": header},
        )
    index: dict[str, int] = {}
    phones: list[int] = [keys.index(column) for column, name in mapping.items() if name == "phone"]
    for name, names in chosen.columns.items():
        found = [keys.index(column) for column in names if column in keys]
        if found:
            index[name] = found[0]
        if name == "phone":
            phones += [i for i in found if i not in phones]
    for column, name in mapping.items():
        index[name] = keys.index(column)
    if phones:
        index["phone"] = phones[0]
    columns = {header[i]: name for name, i in sorted(index.items(), key=lambda item: item[1])}
    columns.update({header[i]: "phone" for i in phones})
    unit = header_key(header[index["amount"]])[1] if "amount" in index else None
    return Plan(
        layout=chosen, index=index, columns=columns, phones=tuple(phones), width=len(header), amount_unit=unit or "yuan"
    )


def _check_mapping(mapping: dict[str, str], keys: list[str], header: list[str]) -> None:
    bad_fields = sorted({v for v in mapping.values() if v not in FIELDS})
    if bad_fields:
        raise InvalidInput(
            _("The mapping names fields that do not exist."),
            code="import_mapping",
            detail={"unknown_fields": bad_fields, "fields": list(FIELDS)},
        )
    absent = sorted(k for k in mapping if k not in keys)
    if absent:
        raise InvalidInput(
            _("The mapping names columns that are not in the file."),
            code="import_columns",
            detail={"missing": absent, "header": header},
        )
