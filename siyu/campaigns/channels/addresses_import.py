"""Importing addresses from a CSV: one row per customer × channel, the good rows kept and the bad
ones reported with their row number and reason (as the customer import does).

Columns, by header (Chinese or English; any order; other columns ignored):
  customer  客户 / 手机号 / phone / customer_id: the customer's mobile number or public id
  channel   渠道: email / 邮箱, wecom / 企业微信, wechat_oa / 公众号
  address   地址 / 联系方式: the email address, external_userid or openid (see addresses.py)
The file is UTF-8 (with or without BOM) or GB18030 (what Excel saves in China). It is read in
batches of BATCH rows; each batch finds its customers with two queries, reads the addresses they
already have with one, and writes with one upsert, in its own transaction, so a big file never holds
one long transaction and a bad row never stops the rest. A later row for the same customer and
channel wins over an earlier one.

Reasons: customer_missing, customer_unknown, channel_unknown, address_invalid, columns (the row has
fewer cells than the header names).
"""

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from siyu.accounts.services import phone_normalize
from siyu.core.audit import audit_record
from siyu.core.crypto import lookup_hash
from siyu.core.errors import DomainError, InvalidInput
from siyu.core.permissions import actor_user, require
from siyu.customers.models import Customer
from siyu.shops.models import Shop

from .addresses import ADDRESS_CHANNELS, PERM_MANAGE, address_clean
from .models import ChannelAddress

BATCH = 1000
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 200_000
KEPT_REJECTS = 200  # rejected rows reported in full; beyond that only counted
HEADERS = {
    "customer": {"customer", "customer_id", "phone", "mobile", "客户", "客户id", "手机号", "手机", "手机号码"},
    "channel": {"channel", "渠道"},
    "address": {"address", "地址", "联系方式", "账号"},
}
CHANNEL_NAMES = {
    "email": "email",
    "邮箱": "email",
    "电子邮件": "email",
    "wecom": "wecom",
    "企业微信": "wecom",
    "wechat_oa": "wechat_oa",
    "公众号": "wechat_oa",
    "微信公众号": "wechat_oa",
}
REASONS = {
    "customer_missing": _("No customer given"),
    "customer_unknown": _("No such customer in this shop"),
    "channel_unknown": _("Unknown channel"),
    "address_invalid": _("Not a valid address for the channel"),
    "columns": _("Too few cells"),
}


@dataclass
class AddressImportReport:
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    superseded: int = 0  # good rows a later row for the same customer and channel replaced
    rejected: int = 0
    rejected_rows: list[dict] = field(default_factory=list)  # {"row", "reason", "detail", "values"}
    header: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    values: list[str]
    customer: str
    channel: str
    address: str


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        _("The file is neither UTF-8 nor GB18030 text."), code="import_encoding", detail={"file": "encoding"}
    )


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.strip().lower().replace(" ", "")
        for column, names in HEADERS.items():
            if key in names and column not in found:
                found[column] = i
    missing = [c for c in HEADERS if c not in found]
    if missing:
        raise InvalidInput(
            _("The file needs a customer, a channel and an address column."),
            code="import_columns",
            detail={"missing": missing, "header": header[:20]},
        )
    return found


def channel_addresses_import(*, actor, shop: Shop, content: bytes) -> AddressImportReport:
    """Import the file; never aborts on a bad row (see the module docstring). Audited (counts only)."""
    require(actor, PERM_MANAGE, shop_id=shop.pk)
    if len(content) > MAX_BYTES:
        raise InvalidInput(
            _("The file is too large."), code="import_too_large", detail={"file": f"at most {MAX_BYTES} bytes"}
        )
    text = _decode(content)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        reader = csv.reader(io.StringIO(text), dialect)
    except csv.Error:
        reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, [])
    except csv.Error:
        header = []
    columns = _columns(header)
    report = AddressImportReport(header=[str(h)[:40] for h in header])
    batch: list[_Row] = []
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS:
                raise InvalidInput(
                    _("The file has too many rows."),
                    code="import_too_large",
                    detail={"file": f"at most {MAX_ROWS} rows"},
                )
            batch.append(_row(number, cells, columns))
            if len(batch) >= BATCH:
                _write(shop, batch, report)
                batch = []
    except csv.Error as exc:
        raise InvalidInput(
            _("The file is not a readable CSV."), code="import_format", detail={"file": str(exc)[:100]}
        ) from None
    if batch:
        _write(shop, batch, report)
    audit_record(
        shop_id=shop.pk,
        actor=actor_user(actor),
        action="channel_address.import",
        target=shop,
        data={k: getattr(report, k) for k in ("rows", "added", "updated", "unchanged", "superseded", "rejected")},
    )
    return report


def _row(number: int, cells: list[str], columns: dict[str, int]) -> _Row:
    def cell(name: str) -> str:
        i = columns[name]
        return cells[i].strip() if i < len(cells) else ""

    return _Row(number, [c[:200] for c in cells[:20]], cell("customer"), cell("channel"), cell("address"))


def _reject(report: AddressImportReport, row: _Row, reason: str, detail: str = "") -> None:
    report.rejected += 1
    if len(report.rejected_rows) < KEPT_REJECTS:
        report.rejected_rows.append({"row": row.number, "reason": reason, "detail": detail, "values": row.values})


def _customer_key(value: str) -> tuple[str, str]:
    """("phone", hash) or ("public", id)."""
    try:
        return "phone", lookup_hash(phone_normalize(value))
    except DomainError:
        return "public", value[:16]


def _customers(shop: Shop, rows: list[_Row]) -> dict[tuple[str, str], int]:
    keys = {_customer_key(r.customer) for r in rows if r.customer}
    hashes = [v for kind, v in keys if kind == "phone"]
    publics = [v for kind, v in keys if kind == "public"]
    found: dict[tuple[str, str], int] = {}
    alive = Customer.objects.filter(shop=shop, anonymized_at__isnull=True)
    if hashes:
        found |= {("phone", h): pk for pk, h in alive.filter(phone_hash__in=hashes).values_list("pk", "phone_hash")}
    if publics:
        found |= {("public", p): pk for pk, p in alive.filter(public_id__in=publics).values_list("pk", "public_id")}
    return found


def _clean_rows(shop: Shop, rows: list[_Row], report: AddressImportReport) -> dict[tuple[int, str], str]:
    """(customer id, channel) → address for the good rows of a batch; the others are rejected."""
    customers = _customers(shop, rows)
    wanted: dict[tuple[int, str], str] = {}
    for row in rows:
        if not row.customer:
            _reject(report, row, "customer_missing")
            continue
        customer_id = customers.get(_customer_key(row.customer))
        if customer_id is None:
            _reject(report, row, "customer_unknown")
            continue
        channel = CHANNEL_NAMES.get(row.channel.strip().lower())
        if channel not in ADDRESS_CHANNELS:
            _reject(report, row, "channel_unknown", row.channel[:20])
            continue
        try:
            address = address_clean(channel=channel, address=row.address)
        except InvalidInput as exc:
            detail = exc.detail.get("address", "") if isinstance(exc.detail, dict) else ""
            _reject(report, row, "address_invalid", str(detail))
            continue
        if (customer_id, channel) in wanted:
            report.superseded += 1
        wanted[(customer_id, channel)] = address
    return wanted


def _write(shop: Shop, rows: list[_Row], report: AddressImportReport) -> None:
    wanted = _clean_rows(shop, rows, report)
    if not wanted:
        return
    with transaction.atomic():
        have = {
            (a.customer_id, a.channel): a.address
            for a in ChannelAddress.objects.filter(
                customer_id__in={c for c, _ch in wanted}, channel__in=ADDRESS_CHANNELS
            )
        }
        now = timezone.now()
        changed = []
        for (customer_id, channel), address in wanted.items():
            before = have.get((customer_id, channel))
            if before == address:
                report.unchanged += 1
                continue
            if before is None:
                report.added += 1
            else:
                report.updated += 1
            changed.append(
                ChannelAddress(shop=shop, customer_id=customer_id, channel=channel, address=address, updated_at=now)
            )
        if changed:
            ChannelAddress.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["customer", "channel"],
                update_fields=["address", "updated_at"],
            )


def reason_label(reason: str) -> str:
    return str(REASONS.get(reason, reason))
